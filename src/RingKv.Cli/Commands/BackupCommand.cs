using System.CommandLine;
using System.Net.Http.Headers;
using RingKv.Cli.Backup;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv backup DIR</c> and <c>ringkv backup verify DIR</c> (docs/BACKUP.md).</summary>
public static class BackupCommand
{
    // Pages and batches are small; a node that takes longer than this is treated as failed and another replica is asked.
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        // "verify DIR" is read from the arguments rather than as a subcommand: a subcommand of a
        // command that has an argument of its own is shown as "backup <DIR> verify <DIR>".
        var arguments = new Argument<string[]>("DIR")
        {
            Description = "The backup directory: new or empty, or an interrupted backup to resume. 'verify DIR' checks a backup instead.",
            HelpName = "[verify] DIR",
            Arity = new ArgumentArity(1, 2),
        };
        var connection = new ConnectionOptions();
        var command = new Command("backup", "Back up the whole cluster while it serves: every key once at its newest version, with tombstones and expiry, "
            + "one file per token range and a manifest with a SHA-256 per range. Rerun on an interrupted backup to resume it. Needs the admin role. "
            + "Exit codes: 0 complete, 2 usage error, 3 server or network error (finished ranges are kept). "
            + "'ringkv backup verify DIR' checks a backup against its manifest: every range present, SHA-256 as recorded, every line an entry in its range "
            + "(exit codes: 0 sound, 2 not a backup directory, 3 problems found, listed on standard error).");
        command.Arguments.Add(arguments);
        connection.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var values = parseResult.GetValue(arguments)!;
            if (values.Length == 2)
            {
                return values[0] == "verify"
                    ? await VerifyAsync(values[1])
                    : throw new UsageException($"backup takes one directory ('{values[0]}' and '{values[1]}' were given); 'ringkv backup verify DIR' checks one.");
            }
            return await RunAsync(parseResult, connection, (http, url, ct) =>
                new BackupRunner(http, url, Console.Out, Console.Error).RunAsync(values[0], ct), cancellationToken);
        });
        return command;
    }

    private static async Task<int> VerifyAsync(string path)
    {
        var report = BackupVerifier.Verify(path);
        foreach (var problem in report.Problems)
        {
            await Console.Error.WriteLineAsync("ringkv: " + problem);
        }
        if (!report.IsSound)
        {
            await Console.Error.WriteLineAsync($"ringkv: backup {report.Manifest.BackupId} in {path}: {report.Problems.Count} problems.");
            return ExitCodes.Failure;
        }
        await Console.Out.WriteLineAsync($"backup {report.Manifest.BackupId} in {path} is sound: {report.Manifest.Spans.Count} ranges, {report.Entries} entries, consistent at {report.Manifest.ConsistentAt:O}.");
        return ExitCodes.Success;
    }

    /// <summary>An HTTP client for the coordinator and the nodes (same token and authority), and the errors a backup or restore ends with.</summary>
    public static async Task<int> RunAsync(ParseResult parseResult, ConnectionOptions connection, Func<HttpClient, Uri, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        var url = connection.ResolveUrl(parseResult);
        using var http = new HttpClient(connection.CreateHandler(parseResult)) { Timeout = RequestTimeout };
        if (connection.ResolveToken(parseResult) is { } token)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        try
        {
            return await action(http, url, cancellationToken);
        }
        catch (BackupException e)
        {
            await Console.Error.WriteLineAsync("ringkv: " + e.Message);
            return ExitCodes.Failure;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"ringkv: cannot reach {e.Message.TrimEnd('.')} (coordinator {url}). Is the cluster running? './ringkv status' shows it.");
            return ExitCodes.Failure;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"ringkv: a request did not answer within {RequestTimeout.TotalSeconds:0} s.");
            return ExitCodes.Failure;
        }
    }
}
