namespace RingKv.Node.Tests.Support;

/// <summary>Waits for a condition with a deadline instead of sleeping a fixed time; fails with context.</summary>
public static class Eventually
{
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan deadline, Func<string> context)
    {
        var until = DateTime.UtcNow + deadline;
        var delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            if (await condition())
            {
                return;
            }
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Condition not met within {deadline.TotalSeconds:0.#} s: {context()}");
            }
            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
        }
    }
}
