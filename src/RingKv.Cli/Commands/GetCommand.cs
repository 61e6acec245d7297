using System.CommandLine;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv get KEY</c>: writes the stored bytes to standard output, nothing added.</summary>
public static class GetCommand
{
    public static Command Create()
    {
        var key = new Argument<string>("KEY") { Description = "The key to read." };
        var connection = new ConnectionOptions();
        var command = new Command("get", "Write a key's value to standard output, byte for byte (no newline added). "
            + "Exit codes: 0 found, 1 not found, 2 usage error, 3 server or network error.");
        command.Arguments.Add(key);
        connection.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var keyText = ClientCommandRunner.RequireKey(parseResult.GetValue(key));
            return await ClientCommandRunner.RunAsync(parseResult, connection, async (client, ct) =>
            {
                var entry = await client.GetAsync(keyText, ct);
                if (entry is null)
                {
                    await Console.Error.WriteLineAsync($"ringkv: key '{keyText}' not found.");
                    return ExitCodes.NotFound;
                }
                await using var stdout = Console.OpenStandardOutput();
                await stdout.WriteAsync(entry.Value, ct);
                await stdout.FlushAsync(ct);
                return ExitCodes.Success;
            }, cancellationToken);
        });
        return command;
    }
}
