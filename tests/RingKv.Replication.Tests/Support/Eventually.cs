namespace RingKv.Replication.Tests.Support;

/// <summary>
/// Waits for what a background continuation does (a fallback's hint, a read repair) with a deadline
/// instead of a fixed sleep, and fails with context. The fake clock does not move meanwhile.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    public static async Task WaitUntilAsync(Func<bool> condition, Func<string> context)
    {
        var until = DateTime.UtcNow + Deadline;
        while (!condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Condition not met within {Deadline.TotalSeconds:0} s: {context()}");
            }
            await Task.Delay(1);
        }
    }

    /// <summary>A task that should complete on its own now: it must, within the deadline.</summary>
    public static Task<T> Completes<T>(Task<T> task) => task.WaitAsync(Deadline);
}
