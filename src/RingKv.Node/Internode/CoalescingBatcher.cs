using System.Threading.Channels;

namespace RingKv.Node.Internode;

/// <summary>
/// Coalesces concurrent requests to one peer into batched calls: while a call is in flight, the
/// requests that arrive queue up and go together in the next one. No request waits for a timer:
/// a lone request is sent at once; under load, batches grow by themselves, so the cost of a call
/// (headers, HTTP/2 frames, a thread hop on each side) is paid once per batch instead of once per
/// key. A few calls may be in flight at once, to keep the connection busy. A batch is bounded by
/// count and, when items are weighed, by total weight (bytes): one item heavier than the bound
/// still goes, alone. The weight waiting to be sent is bounded too: a peer slower than the rate
/// of requests does not make this node hold an ever longer queue of values for it.
/// </summary>
public sealed class CoalescingBatcher<TItem, TResult> : IAsyncDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> _send;
    private readonly int _maxBatch;
    private readonly Func<TItem, long>? _weigh;
    private readonly long _maxBatchWeight;
    private readonly long _maxQueuedWeight;
    private readonly SemaphoreSlim _inFlight;
    private long _queuedWeight;
    private readonly Task _loop;

    /// <param name="send">Sends one batch; returns one result per item, in order.</param>
    /// <param name="maxBatch">Most items in one call.</param>
    /// <param name="maxInFlight">Most calls in flight at once.</param>
    /// <param name="weigh">An item's weight (its bytes on the wire); null: batches are bounded by count only.</param>
    /// <param name="maxBatchWeight">Most total weight in one call, unless a single item weighs more.</param>
    /// <param name="maxQueuedWeight">Most total weight waiting to be sent; <see cref="TrySend"/> refuses more (an item alone is always taken).</param>
    public CoalescingBatcher(Func<IReadOnlyList<TItem>, Task<IReadOnlyList<TResult>>> send, int maxBatch, int maxInFlight,
        Func<TItem, long>? weigh = null, long maxBatchWeight = long.MaxValue, long maxQueuedWeight = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchWeight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxQueuedWeight, 1);
        _send = send;
        _maxBatch = maxBatch;
        _weigh = weigh;
        _maxBatchWeight = maxBatchWeight;
        _maxQueuedWeight = maxQueuedWeight;
        _inFlight = new SemaphoreSlim(maxInFlight, maxInFlight);
        _loop = Task.Run(LoopAsync);
    }

    public Task<TResult> SendAsync(TItem item) =>
        TrySend(item, out var result) ? result : throw new InvalidOperationException("The queue is full; use TrySend where a bound is set.");

    /// <summary>Queues an item for the next call, unless what already waits would then weigh more than the bound.</summary>
    public bool TrySend(TItem item, out Task<TResult> result)
    {
        var completion = new TaskCompletion();
        result = completion.Task;
        return TrySend(item, completion, 0);
    }

    /// <summary>
    /// Queues an item whose result goes to <paramref name="target"/> as <paramref name="slot"/>,
    /// from the thread that completes the call, unless what already waits would then weigh more
    /// than the bound. No task per item: a coordinated write hands one object to every replica's
    /// batcher and counts their answers there.
    /// </summary>
    public bool TrySend(TItem item, IBatchCompletion<TResult> target, int slot)
    {
        var pending = new Pending(item, _weigh?.Invoke(item) ?? 0, target, slot);
        var queued = Interlocked.Add(ref _queuedWeight, pending.Weight);
        if (queued > _maxQueuedWeight && queued != pending.Weight)
        {
            Interlocked.Add(ref _queuedWeight, -pending.Weight);
            return false;
        }
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(CoalescingBatcher<TItem, TResult>));
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task LoopAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await _inFlight.WaitAsync().ConfigureAwait(false);
            // Most batches under load are a few dozen items; the list grows for more.
            var batch = new List<Pending>(Math.Min(_maxBatch, 16));
            long weight = 0;
            while (batch.Count < _maxBatch && reader.TryPeek(out var next))
            {
                if (batch.Count > 0 && weight + next.Weight > _maxBatchWeight)
                {
                    break;
                }
                reader.TryRead(out _);
                batch.Add(next);
                weight += next.Weight;
                Interlocked.Add(ref _queuedWeight, -next.Weight);
            }
            if (batch.Count == 0)
            {
                _inFlight.Release();
                continue;
            }
            _ = SendBatchAsync(batch);
        }
    }

    private async Task SendBatchAsync(List<Pending> batch)
    {
        try
        {
            var results = await _send(batch.ConvertAll(p => p.Item)).ConfigureAwait(false);
            if (results.Count != batch.Count)
            {
                throw new InvalidOperationException($"The peer answered {results.Count} results for {batch.Count} requests.");
            }
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Target.Complete(batch[i].Slot, results[i]);
            }
        }
        catch (Exception ex)
        {
            foreach (var pending in batch)
            {
                pending.Target.Fail(pending.Slot, ex);
            }
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <remarks>
    /// Targets are completed inline on the thread that completes the batch: what waits on one
    /// replica's answer is a few instructions (count it towards a quorum, hand off to the
    /// request), and queueing each of them to the thread pool cost a thread hop per key per peer.
    /// </remarks>
    private readonly record struct Pending(TItem Item, long Weight, IBatchCompletion<TResult> Target, int Slot);

    /// <summary>A task for one item, for callers that await each result on its own.</summary>
    private sealed class TaskCompletion : TaskCompletionSource<TResult>, IBatchCompletion<TResult>
    {
        public void Complete(int slot, TResult result) => TrySetResult(result);

        public void Fail(int slot, Exception error) => TrySetException(error);
    }
}

/// <summary>Where a batched item's result goes: one object may wait for several items, told apart by slot.</summary>
public interface IBatchCompletion<in TResult>
{
    void Complete(int slot, TResult result);

    void Fail(int slot, Exception error);
}
