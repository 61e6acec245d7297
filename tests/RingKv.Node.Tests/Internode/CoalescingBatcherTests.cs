using System.Collections.Concurrent;
using RingKv.Node.Internode;

namespace RingKv.Node.Tests.Internode;

/// <summary>
/// The batcher behind every replica write: requests that queue while a call is in flight go
/// together in the next call, in order, within the count and weight bounds; each caller gets its
/// own result, or the call's failure.
/// </summary>
public sealed class CoalescingBatcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RequestsQueuedBehindACallGoTogetherWithinTheWeightBound()
    {
        var calls = new ConcurrentQueue<int[]>();
        var firstCallHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var batcher = new CoalescingBatcher<int, int>(
            async items =>
            {
                calls.Enqueue([.. items]);
                if (calls.Count == 1)
                {
                    firstCallHeld.SetResult();
                    await release.Task;
                }
                return [.. items.Select(item => item * 10)];
            },
            maxBatch: 100, maxInFlight: 1, weigh: item => item, maxBatchWeight: 10);

        var first = batcher.SendAsync(1);
        await firstCallHeld.Task.WaitAsync(Deadline);
        // Queued while the first call is held: weights 4, 4, 4, 12 (heavier than the bound), 3, 3.
        int[] queued = [4, 4, 4, 12, 3, 3];
        var results = queued.Select(batcher.SendAsync).ToList();
        release.SetResult();

        Assert.Equal(10, await first.WaitAsync(Deadline));
        Assert.Equal(queued.Select(item => item * 10), await Task.WhenAll(results).WaitAsync(Deadline));
        Assert.Equal([[1], [4, 4], [4], [12], [3, 3]], calls.ToArray());
    }

    [Fact]
    public async Task WithoutWeightsOnlyTheCountBoundsABatch()
    {
        var calls = new ConcurrentQueue<int[]>();
        var firstCallHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var batcher = new CoalescingBatcher<int, int>(
            async items =>
            {
                calls.Enqueue([.. items]);
                if (calls.Count == 1)
                {
                    firstCallHeld.SetResult();
                    await release.Task;
                }
                return [.. items];
            },
            maxBatch: 3, maxInFlight: 1);

        var first = batcher.SendAsync(1_000_000);
        await firstCallHeld.Task.WaitAsync(Deadline);
        var results = Enumerable.Range(1, 7).Select(batcher.SendAsync).ToList();
        release.SetResult();

        await Task.WhenAll(results.Append(first)).WaitAsync(Deadline);
        Assert.Equal([[1_000_000], [1, 2, 3], [4, 5, 6], [7]], calls.ToArray());
    }

    [Fact]
    public async Task WhatWaitsForASlowPeerIsBoundedByWeight()
    {
        var calls = new ConcurrentQueue<int[]>();
        var firstCallHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var batcher = new CoalescingBatcher<int, int>(
            async items =>
            {
                calls.Enqueue([.. items]);
                if (calls.Count == 1)
                {
                    firstCallHeld.SetResult();
                    await release.Task;
                }
                return [.. items];
            },
            maxBatch: 100, maxInFlight: 1, weigh: item => item, maxBatchWeight: 100, maxQueuedWeight: 10);

        Assert.True(batcher.TrySend(50, out var first));
        await firstCallHeld.Task.WaitAsync(Deadline);
        // The call in flight does not count; what queues behind it does: 4 + 4, then 4 more is over 10.
        Assert.True(batcher.TrySend(4, out var second));
        Assert.True(batcher.TrySend(4, out var third));
        Assert.False(batcher.TrySend(4, out _));
        Assert.False(batcher.TrySend(3, out _));
        Assert.True(batcher.TrySend(2, out var fourth));
        release.SetResult();
        await Task.WhenAll(first, second, third, fourth).WaitAsync(Deadline);

        // Drained, the queue takes again, and one item heavier than the bound is taken on its own.
        Assert.True(batcher.TrySend(12, out var heavy));
        Assert.Equal(12, await heavy.WaitAsync(Deadline));
        Assert.Equal([[50], [4, 4, 2], [12]], calls.ToArray());
    }

    [Fact]
    public async Task AFailedCallFailsEveryRequestItCarried()
    {
        await using var batcher = new CoalescingBatcher<int, int>(
            items => Task.FromException<IReadOnlyList<int>>(new InvalidOperationException("peer gone")),
            maxBatch: 10, maxInFlight: 1);

        var failures = await Task.WhenAll(Enumerable.Range(0, 5).Select(async item =>
            await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.SendAsync(item).WaitAsync(Deadline))));
        Assert.All(failures, failure => Assert.Equal("peer gone", failure.Message));
    }
}
