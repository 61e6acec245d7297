using System.CommandLine;
using System.Text;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv keys</c>: one key per line, one page or (with --all) every page.</summary>
public static class KeysCommand
{
    private const int MaxLimit = 1000;

    public static Command Create()
    {
        var prefix = new Option<string?>("--prefix") { Description = "Only keys that start with this text.", HelpName = "PREFIX" };
        var limit = new Option<int?>("--limit")
        {
            Description = $"Keys per page, 1..{MaxLimit}. Default: the server's (100).",
            HelpName = "N",
        }.Require(n => n is null or (>= 1 and <= MaxLimit), $"--limit must be between 1 and {MaxLimit}.");
        var cursor = new Option<string?>("--cursor") { Description = "Start at this page (printed on standard error after a partial listing).", HelpName = "CURSOR" };
        var all = new Option<bool>("--all") { Description = "Follow the cursors and list every matching key." };
        var connection = new ConnectionOptions();

        var command = new Command("keys", "List keys, one per line, in the server's stable order. "
            + "Exit codes: 0 listed, 2 usage error, 3 server or network error.");
        command.Options.Add(prefix);
        command.Options.Add(limit);
        command.Options.Add(cursor);
        command.Options.Add(all);
        connection.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var prefixText = parseResult.GetValue(prefix);
            var pageSize = parseResult.GetValue(limit);
            var next = parseResult.GetValue(cursor);
            var followAll = parseResult.GetValue(all);
            return await ClientCommandRunner.RunAsync(parseResult, connection, async (client, ct) =>
            {
                // Buffered: Console.Out flushes every line, which is slow for a listing of many keys.
                await using var stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { NewLine = "\n" };
                do
                {
                    var page = await client.ListKeysAsync(prefixText, pageSize, next, ct);
                    foreach (var key in page.Keys)
                    {
                        await stdout.WriteLineAsync(key);
                    }
                    next = page.Cursor;
                }
                while (followAll && next is not null);
                await stdout.FlushAsync(ct);
                if (next is not null)
                {
                    await Console.Error.WriteLineAsync($"ringkv: more keys follow; use --all, or --cursor {next} for the next page.");
                }
                return ExitCodes.Success;
            }, cancellationToken);
        });
        return command;
    }
}
