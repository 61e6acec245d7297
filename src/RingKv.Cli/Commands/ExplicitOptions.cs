using System.CommandLine;

namespace RingKv.Cli.Commands;

/// <summary>
/// Flags given on the command line override the configuration file; a flag left out keeps the
/// file's value (or the built-in default), never the flag's default.
/// </summary>
public static class ExplicitOptions
{
    public const string ConfigHelpName = "FILE";

    public static Option<string?> ConfigOption(string section) => new("--config")
    {
        Description = $"A JSON configuration file: its \"{section}\" section sets any setting (docs/CONFIG.md; 'ringkv config defaults' prints one). Flags given here override it.",
        HelpName = ConfigHelpName,
    };

    public static void IfGiven<T>(this ParseResult parseResult, Option<T> option, Action<T> set)
    {
        if (parseResult.GetResult(option) is { Implicit: false })
        {
            set(parseResult.GetValue(option)!);
        }
    }
}
