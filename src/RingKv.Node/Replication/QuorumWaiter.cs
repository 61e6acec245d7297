namespace RingKv.Node.Replication;

/// <summary>
/// Waits for the first <c>required</c> successful replica answers out of several in flight, and
/// gives up as soon as that has become impossible or the deadline passes. Answers that arrive
/// later are not cancelled: a write still lands on every replica that is reachable.
/// </summary>
public static class QuorumWaiter
{
    /// <summary>Returns the successful answers seen when the quorum was reached, or null if it could not be.</summary>
    /// <param name="nodeOf">
    /// The physical node an answer comes from: a quorum is of distinct nodes, so a second answer
    /// from a node that already answered counts as a failure. Null: every answer counts.
    /// </param>
    public static async Task<(List<T>? Quorum, int Succeeded)> WaitAsync<T>(IReadOnlyList<Task<T?>> calls, int required, TimeSpan timeout, CancellationToken cancellationToken,
        Func<T, string>? nodeOf = null)
        where T : class
    {
        // Completed outside the lock, and its continuation (the rest of the request) runs inline on
        // the thread that brought the deciding answer: that thread is already finishing a batch of
        // replica answers, and handing each request back to the pool cost a hop per request.
        var done = new TaskCompletionSource();
        var successes = new List<T>(calls.Count);
        var nodes = new HashSet<string>(StringComparer.Ordinal);
        var failures = 0;
        var decided = false;
        var gate = new object();
        foreach (var call in calls)
        {
            _ = call.ContinueWith(completed =>
            {
                lock (gate)
                {
                    if (completed.IsCompletedSuccessfully && completed.Result is { } answer && (nodeOf is null || nodes.Add(nodeOf(answer))))
                    {
                        successes.Add(answer);
                    }
                    else
                    {
                        failures++;
                    }
                    if (decided || (successes.Count < required && failures <= calls.Count - required))
                    {
                        return;
                    }
                    decided = true;
                }
                done.TrySetResult();
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        try
        {
            await done.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Deadline passed: answer with what we have.
        }
        lock (gate)
        {
            var snapshot = successes.ToList();
            return (snapshot.Count >= required ? snapshot : null, snapshot.Count);
        }
    }
}
