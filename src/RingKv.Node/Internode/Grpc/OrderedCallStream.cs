using Grpc.Core;

namespace RingKv.Node.Internode.Grpc;

/// <summary>
/// Request and reply messages to one peer over one long-lived bidirectional gRPC call: the peer
/// answers the requests in the order they were sent, so each reply goes to the oldest request
/// still waiting. A unary call per batch paid, on both nodes, for a new HTTP/2 stream, its
/// headers and trailers, a gRPC call object and a deadline timer; on a stream a batch is one
/// message (docs/PERFORMANCE.md: 13% less CPU per replicated write).
/// <para>
/// The call is opened on first use and replaced once it breaks: an error from the peer, a
/// dropped connection, or a request that went unanswered for longer than the timeout (a paused
/// or cut-off peer). Breaking fails every request still waiting on that call, as the deadline of
/// each unary call did; the next request opens a new call.
/// </para>
/// </summary>
public sealed class OrderedCallStream<TRequest, TReply> : IAsyncDisposable
    where TRequest : class
    where TReply : class
{
    private readonly Func<AsyncDuplexStreamingCall<TRequest, TReply>> _open;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    // Sending is one at a time: a gRPC request stream takes one write at a time, and the order
    // requests are written in is the order their waiters are queued in.
    private readonly SemaphoreSlim _sending = new(1, 1);
    private Session? _session;
    private bool _disposed;

    /// <param name="open">Starts the call (no deadline: it lives as long as it works).</param>
    /// <param name="timeout">How long a request may wait for its reply before the call is given up.</param>
    public OrderedCallStream(Func<AsyncDuplexStreamingCall<TRequest, TReply>> open, TimeSpan timeout, TimeProvider? time = null)
    {
        _open = open;
        _timeout = timeout;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Sends a request and completes with its reply, or fails if the call breaks first.</summary>
    public async Task<TReply> CallAsync(TRequest request)
    {
        var waiter = new Waiter(_time.GetTimestamp());
        // A send that does not complete (the peer stopped reading, and the connection's flow
        // control window is full) holds the others up until the watch gives the call up.
        if (!await _sending.WaitAsync(_timeout).ConfigureAwait(false))
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"Could not send to the peer within {_timeout.TotalSeconds:0.#} s."));
        }
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var session = _session is { Broken: false } current ? current : _session = new Session(this, _open());
            if (session.Enqueue(waiter))
            {
                try
                {
                    await session.Call.RequestStream.WriteAsync(request).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    session.Break(ex);
                }
            }
        }
        finally
        {
            _sending.Release();
        }
        return await waiter.Task.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _sending.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            _session?.Break(new ObjectDisposedException(nameof(OrderedCallStream<TRequest, TReply>)));
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>A request waiting for its reply. Completed inline: what waits is a batch, which completes its callers itself.</summary>
    private sealed class Waiter(long sentAt) : TaskCompletionSource<TReply>
    {
        public long SentAt { get; } = sentAt;
    }

    /// <summary>One call: its waiters in send order, the loop that reads the replies, and the watch on the oldest waiter.</summary>
    private sealed class Session
    {
        private readonly OrderedCallStream<TRequest, TReply> _owner;
        private readonly Queue<Waiter> _waiting = new();
        private readonly ITimer _watch;
        private bool _broken;

        public Session(OrderedCallStream<TRequest, TReply> owner, AsyncDuplexStreamingCall<TRequest, TReply> call)
        {
            _owner = owner;
            Call = call;
            // A quarter of the timeout: a stalled request is found at most 25% late.
            var period = owner._timeout / 4;
            _watch = owner._time.CreateTimer(static state => ((Session)state!).CheckOldest(), this, period, period);
            _ = ReadRepliesAsync();
        }

        public AsyncDuplexStreamingCall<TRequest, TReply> Call { get; }

        public bool Broken
        {
            get
            {
                lock (_waiting)
                {
                    return _broken;
                }
            }
        }

        /// <summary>Queues a waiter for the next reply; false (and the waiter failed) if the call already broke.</summary>
        public bool Enqueue(Waiter waiter)
        {
            lock (_waiting)
            {
                if (!_broken)
                {
                    _waiting.Enqueue(waiter);
                    return true;
                }
            }
            waiter.TrySetException(new RpcException(new Status(StatusCode.Unavailable, "The stream to the peer broke.")));
            return false;
        }

        /// <summary>Gives up the call: every waiter fails with <paramref name="error"/>, and the next request opens a new call.</summary>
        public void Break(Exception error)
        {
            Waiter[] failed;
            lock (_waiting)
            {
                if (_broken)
                {
                    return;
                }
                _broken = true;
                failed = [.. _waiting];
                _waiting.Clear();
            }
            _watch.Dispose();
            // Cancels the call: the peer's handler ends, and so does our read loop.
            Call.Dispose();
            foreach (var waiter in failed)
            {
                waiter.TrySetException(error);
            }
        }

        private async Task ReadRepliesAsync()
        {
            try
            {
                await foreach (var reply in Call.ResponseStream.ReadAllAsync().ConfigureAwait(false))
                {
                    Waiter? waiter;
                    lock (_waiting)
                    {
                        _waiting.TryDequeue(out waiter);
                    }
                    if (waiter is null)
                    {
                        throw new RpcException(new Status(StatusCode.Internal, "The peer sent a reply to no request."));
                    }
                    waiter.TrySetResult(reply);
                }
                Break(new RpcException(new Status(StatusCode.Unavailable, "The peer ended the stream.")));
            }
            catch (Exception ex)
            {
                Break(ex);
            }
        }

        private void CheckOldest()
        {
            long oldest;
            lock (_waiting)
            {
                if (_broken || !_waiting.TryPeek(out var waiter))
                {
                    return;
                }
                oldest = waiter.SentAt;
            }
            if (_owner._time.GetElapsedTime(oldest) > _owner._timeout)
            {
                Break(new RpcException(new Status(StatusCode.DeadlineExceeded, $"No reply from the peer within {_owner._timeout.TotalSeconds:0.#} s.")));
            }
        }
    }
}
