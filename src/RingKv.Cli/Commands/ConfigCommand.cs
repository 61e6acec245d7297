using System.CommandLine;
using RingKv.Cli.Configuration;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv config check FILE</c> and <c>ringkv config defaults</c>: the configuration file (docs/CONFIG.md).</summary>
public static class ConfigCommand
{
    public static Command Create()
    {
        var command = new Command("config", "Check a configuration file, or print one with every setting at its default.");

        var file = new Argument<string>("FILE") { Description = "The JSON configuration file (\"node\" and/or \"coordinator\" sections)." };
        var check = new Command("check", "Validate a configuration file: exit 0 if it is valid, else 2 with every problem listed.");
        check.Arguments.Add(file);
        check.SetAction(async parseResult =>
        {
            var path = parseResult.GetValue(file)!;
            var problems = ConfigFile.Check(path);
            if (problems.Count == 0)
            {
                await Console.Out.WriteLineAsync($"{path}: valid.");
                return ExitCodes.Success;
            }
            await Console.Error.WriteLineAsync($"{path}: {problems.Count} problem{(problems.Count == 1 ? "" : "s")}:");
            foreach (var problem in problems)
            {
                await Console.Error.WriteLineAsync("  " + problem);
            }
            return ExitCodes.Usage;
        });

        var defaults = new Command("defaults", "Print a configuration file with every setting of node and coordinator at its default.");
        defaults.SetAction(async _ =>
        {
            await Console.Out.WriteAsync(ConfigFile.Defaults());
            return ExitCodes.Success;
        });

        command.Subcommands.Add(check);
        command.Subcommands.Add(defaults);
        return command;
    }
}
