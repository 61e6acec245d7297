using System.CommandLine;
using System.CommandLine.Invocation;
using System.Text.RegularExpressions;
using RingKv.Cli.Commands;

namespace RingKv.Cli;

/// <summary>The command tree and the one place where outcomes become exit codes.</summary>
public static partial class RingKvCommandLine
{
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("RingKV: a distributed, replicated key-value store. Run a node, talk to one, or measure one.");
        root.Subcommands.Add(UpCommand.Create());
        root.Subcommands.Add(NodeCommand.Create());
        root.Subcommands.Add(CoordinatorCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(LocateCommand.Create());
        root.Subcommands.Add(TokenCommand.Create());
        root.Subcommands.Add(ConfigCommand.Create());
        root.Subcommands.Add(PutCommand.Create());
        root.Subcommands.Add(GetCommand.Create());
        root.Subcommands.Add(DeleteCommand.Create());
        root.Subcommands.Add(KeysCommand.Create());
        root.Subcommands.Add(BackupCommand.Create());
        root.Subcommands.Add(RestoreCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var parseResult = CreateRoot().Parse(args);

        // System.CommandLine exits 1 on a parse error, but 1 means "not found" here: a usage error is 2.
        if (parseResult.Action is ParseErrorAction)
        {
            foreach (var error in parseResult.Errors.Select(e => Humanize(e.Message)).Distinct())
            {
                await Console.Error.WriteLineAsync($"ringkv: {error}");
            }
            await Console.Error.WriteLineAsync($"Run '{HelpHint(parseResult)}' for usage.");
            return ExitCodes.Usage;
        }

        // Signals are left to the commands: a node's host stops cleanly on SIGINT/SIGTERM by itself,
        // and System.CommandLine's own handler would race it and cut the shutdown short.
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
        try
        {
            return await parseResult.InvokeAsync(invocation);
        }
        catch (UsageException e)
        {
            await Console.Error.WriteLineAsync($"ringkv: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"ringkv: unexpected failure: {e}");
            return ExitCodes.Failure;
        }
    }

    // "as expected type 'System.Nullable`1[System.Int32]'" means nothing to a user of a shell.
    private static string Humanize(string message) => TypeName().Replace(message, match => match.Groups["type"].Value switch
    {
        "Int32" or "Int64" => "as a whole number",
        "UInt32" => "as a whole number of at least 0",
        "Double" => "as a number",
        _ => match.Value,
    });

    [GeneratedRegex(@"as expected type '(?:System\.Nullable`1\[)?System\.(?<type>\w+)\]?'")]
    private static partial Regex TypeName();

    private static string HelpHint(ParseResult parseResult)
    {
        var names = new List<string>();
        for (var result = parseResult.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Add(result.Command is RootCommand ? "ringkv" : result.Command.Name);
        }
        names.Reverse();
        return string.Join(' ', names) + " --help";
    }
}
