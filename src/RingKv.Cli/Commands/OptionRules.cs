using System.CommandLine;

namespace RingKv.Cli.Commands;

/// <summary>Range checks on option values that become parse errors (exit code 2) rather than failures inside a command.</summary>
public static class OptionRules
{
    public static Option<T> Require<T>(this Option<T> option, Func<T, bool> isValid, string message)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                // The text is not a T at all ("--limit many"): the parser reports that error itself.
                return;
            }
            if (!isValid(value))
            {
                result.AddError(message);
            }
        });
        return option;
    }
}
