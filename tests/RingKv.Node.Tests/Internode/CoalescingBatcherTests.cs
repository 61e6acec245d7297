using System.Collections.Concurrent;
using RingKv.Node.Internode;

namespace RingKv.Node.Tests.Internode;

/// <summary>
/// The batcher behind every replica write: requests that queue while a call is in flight go
/// together in the next call, in order, within the count and weight bounds; what may wait is
/// bounded by weight; each caller gets its own result, or the call's failure.
/// </summary>
public sealed class CoalescingBatcherTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task RequestsQueuedBehindACallGoTogetherWithinTheWeightBound()
    {
        var peer = new HeldPeer();
        await using var batcher = peer.Batcher(maxBatch: 100, weigh: item => item, maxBatchWeight: 10);

        var first = batcher.SendAsync(1);
        await peer.FirstCallHeld.WaitAsync(Deadline);
        // Queued while the first call is held: weights 4, 4, 4, 12 (heavier than the bound), 3, 3.
        int[] queued = [4, 4, 4, 12, 3, 3];
        var results = queued.Select(batcher.SendAsync).ToList();
        peer.Release();

        Assert.Equal(10, await first.WaitAsync(Deadline));
        Assert.Equal(queued.Select(item => item * 10), await Task.WhenAll(results).WaitAsync(Deadline));
        Assert.Equal([[1], [4, 4], [4], [12], [3, 3]], peer.Calls);
    }

    [Fact]
    public async Task WithoutWeightsOnlyTheCountBoundsABatch()
    {
        var peer = new HeldPeer();
        await using var batcher = peer.Batcher(maxBatch: 3);

        var first = batcher.SendAsync(1_000_000);
        await peer.FirstCallHeld.WaitAsync(Deadline);
        var results = Enumerable.Range(1, 7).Select(batcher.SendAsync).ToList();
        peer.Release();

        await Task.WhenAll(results.Append(first)).WaitAsync(Deadline);
        Assert.Equal([[1_000_000], [1, 2, 3], [4, 5, 6], [7]], peer.Calls);
    }

    [Fact]
    public async Task WhatWaitsForASlowPeerIsBoundedByWeight()
    {
        var peer = new HeldPeer();
        await using var batcher = peer.Batcher(maxBatch: 100, weigh: item => item, maxBatchWeight: 100, maxQueuedWeight: 10);

        Assert.True(batcher.TrySend(50, out var first));
        await peer.FirstCallHeld.WaitAsync(Deadline);
        // The call in flight does not count; what queues behind it does: 4 + 4, then 4 more is over 10.
        Assert.True(batcher.TrySend(4, out var second));
        Assert.True(batcher.TrySend(4, out var third));
        Assert.False(batcher.TrySend(4, out _));
        Assert.False(batcher.TrySend(3, out _));
        Assert.True(batcher.TrySend(2, out var fourth));
        peer.Release();
        await Task.WhenAll(first, second, third, fourth).WaitAsync(Deadline);

        // Drained, the queue takes again, and one item heavier than the bound is taken on its own.
        Assert.True(batcher.TrySend(12, out var heavy));
        Assert.Equal(120, await heavy.WaitAsync(Deadline));
        Assert.Equal([[50], [4, 4, 2], [12]], peer.Calls);
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

    /// <summary>A peer that records each call and holds the first one until released, so requests queue behind it; it answers item × 10.</summary>
    private sealed class HeldPeer
    {
        private readonly ConcurrentQueue<int[]> _calls = new();
        private readonly TaskCompletionSource _firstCallHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task FirstCallHeld => _firstCallHeld.Task;

        public int[][] Calls => [.. _calls];

        public void Release() => _release.SetResult();

        public CoalescingBatcher<int, int> Batcher(int maxBatch, Func<int, long>? weigh = null, long maxBatchWeight = long.MaxValue, long maxQueuedWeight = long.MaxValue) =>
            new(SendAsync, maxBatch, maxInFlight: 1, weigh, maxBatchWeight, maxQueuedWeight);

        private async Task<IReadOnlyList<int>> SendAsync(IReadOnlyList<int> items)
        {
            _calls.Enqueue([.. items]);
            if (_calls.Count == 1)
            {
                _firstCallHeld.SetResult();
                await _release.Task;
            }
            return [.. items.Select(item => item * 10)];
        }
    }
}
