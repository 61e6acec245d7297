using System.Diagnostics;

namespace RingKv.Testing;

/// <summary>
/// Waits for a condition instead of sleeping: polls with a short, growing backoff until it holds or
/// the deadline passes, then fails saying what was expected and what was seen last.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromMilliseconds(250);

    /// <param name="condition">Checked until it returns true. An exception from it counts as "not yet" and is reported if the deadline passes.</param>
    /// <param name="deadline">How long to keep trying.</param>
    /// <param name="context">Called once on failure: which node, what was expected, what was seen.</param>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan deadline, Func<string> context)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(context);
        var clock = Stopwatch.StartNew();
        var delay = FirstDelay;
        var attempts = 0;
        Exception? lastError = null;
        while (true)
        {
            attempts++;
            try
            {
                if (await condition())
                {
                    return;
                }
                lastError = null;
            }
            catch (Exception e)
            {
                lastError = e;
            }
            if (clock.Elapsed >= deadline)
            {
                var seen = lastError is null ? "" : $" Last attempt threw: {lastError.GetType().Name}: {lastError.Message}";
                throw new TimeoutException($"Condition not met within {deadline.TotalSeconds:0.###} s ({attempts} attempts). {context()}{seen}", lastError);
            }
            var remaining = deadline - clock.Elapsed;
            await Task.Delay(delay < remaining ? delay : remaining);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }

    /// <summary>Synchronous-condition convenience overload.</summary>
    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan deadline, Func<string> context) =>
        WaitUntilAsync(() => Task.FromResult(condition()), deadline, context);
}
