using System.CommandLine;
using System.Text;
using System.Text.Json;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv put KEY VALUE</c>: stores a value byte for byte.</summary>
public static class PutCommand
{
    private const string JsonContentType = "application/json";

    // The node refuses deeper documents (docs/API.md); checking the same limit here keeps exit code 2 meaning "refused before sending".
    private const int MaxJsonDepth = 128;

    public static Command Create()
    {
        var key = new Argument<string>("KEY") { Description = "The key: any UTF-8 text of 1..1024 bytes; '/' is allowed (users/42/profile)." };
        var value = new Argument<string>("VALUE") { Description = "The value. '-' reads the bytes from standard input, unchanged." };
        var json = new Option<bool>("--json")
        {
            Description = "The value must be a JSON document; it is checked here and an invalid one is refused with exit code 2 "
                + "before anything is sent. Sent as application/json unless --content-type says otherwise.",
        };
        var contentType = new Option<string?>("--content-type")
        {
            Description = "Content-Type stored with the value. Default: application/octet-stream. "
                + "With a JSON type but without --json, the server checks the JSON and an invalid one fails with exit code 3.",
            HelpName = "TYPE",
        };
        var ttl = new Option<int?>("--ttl") { Description = "Expire the key after this many seconds.", HelpName = "SECONDS" }
            .Require(s => s is null or > 0, "--ttl must be a positive number of seconds.");
        var connection = new ConnectionOptions();

        var command = new Command("put", "Store a value under a key. Exit codes: 0 stored, 2 usage error, 3 server or network error.");
        command.Arguments.Add(key);
        command.Arguments.Add(value);
        command.Options.Add(json);
        command.Options.Add(contentType);
        command.Options.Add(ttl);
        connection.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var keyText = ClientCommandRunner.RequireKey(parseResult.GetValue(key));
            var valueText = parseResult.GetValue(value) ?? string.Empty;
            var bytes = valueText == "-" ? await ReadStandardInputAsync(cancellationToken) : Encoding.UTF8.GetBytes(valueText);
            var type = parseResult.GetValue(contentType);
            if (parseResult.GetValue(json))
            {
                RequireJson(bytes);
                type ??= JsonContentType;
            }
            var seconds = parseResult.GetValue(ttl);
            return await ClientCommandRunner.RunAsync(parseResult, connection, async (client, ct) =>
            {
                await client.PutAsync(keyText, bytes, type, seconds is { } s ? TimeSpan.FromSeconds(s) : null, cancellationToken: ct);
                return ExitCodes.Success;
            }, cancellationToken);
        });
        return command;
    }

    private static async Task<byte[]> ReadStandardInputAsync(CancellationToken cancellationToken)
    {
        await using var stdin = Console.OpenStandardInput();
        using var buffer = new MemoryStream();
        await stdin.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    private static void RequireJson(byte[] bytes)
    {
        try
        {
            // The server accepts any JSON document (object, array, string, number, true, false, null)
            // up to the same depth, so what passes here is not refused there.
            using var document = JsonDocument.Parse(bytes, new JsonDocumentOptions { MaxDepth = MaxJsonDepth });
        }
        catch (JsonException e)
        {
            throw new UsageException($"The value is not valid JSON ({e.Message}). Nothing was sent; fix the JSON or drop --json.", e);
        }
    }
}
