using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using RingKv.Node.Internode.Grpc;

namespace RingKv.Node.Tests.Internode;

/// <summary>
/// The write stream to a peer: each reply goes to its own request; a peer that stops answering,
/// or a call that breaks, fails what waits on that call within the timeout, and the next request
/// opens a new call. The peer here is in memory; the cluster suites run it between processes.
/// </summary>
public sealed class OrderedCallStreamTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ConcurrentRequestsEachGetTheirOwnReply()
    {
        var peer = new FakePeer();
        await using var stream = new OrderedCallStream<Box, Box>(peer.Open, TimeSpan.FromSeconds(10));

        var calls = Enumerable.Range(0, 500).Select(i => Task.Run(() => stream.CallAsync(new Box(i)))).ToList();
        var replies = await Task.WhenAll(calls).WaitAsync(Deadline);

        Assert.Equal(Enumerable.Range(0, 500).Select(i => -i), replies.Select(reply => reply.Value));
        Assert.Equal(1, peer.Opened);
    }

    [Fact]
    public async Task APeerThatStopsAnsweringFailsTheWaitingRequestsAndTheNextOneOpensANewCall()
    {
        // On a fake clock: the watch runs only when the test moves time, so a loaded machine
        // cannot make a request look unanswered (a real 0.3 s timeout did, once, in CI).
        var time = new FakeTimeProvider();
        var peer = new FakePeer();
        var timeout = TimeSpan.FromMilliseconds(300);
        await using var stream = new OrderedCallStream<Box, Box>(peer.Open, timeout, time);
        Assert.Equal(-1, (await stream.CallAsync(new Box(1)).WaitAsync(Deadline)).Value);

        peer.Silent = true;
        var unanswered = new[] { stream.CallAsync(new Box(2)), stream.CallAsync(new Box(3)) };
        Assert.Equal(3, peer.RequestsReceived);

        // The watch runs every quarter of the timeout: up to the timeout itself, nothing is given up.
        time.Advance(timeout);
        Assert.All(unanswered, call => Assert.False(call.IsCompleted));
        // At the next run after it, the call is given up and every request waiting on it fails.
        time.Advance(timeout / 4);
        foreach (var call in unanswered)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Deadline));
            Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        }

        peer.Silent = false;
        Assert.Equal(-4, (await stream.CallAsync(new Box(4)).WaitAsync(Deadline)).Value);
        Assert.Equal(2, peer.Opened);
    }

    [Fact]
    public async Task ABrokenCallFailsItsRequestsWithTheErrorAndTheNextOneOpensANewCall()
    {
        var peer = new FakePeer();
        await using var stream = new OrderedCallStream<Box, Box>(peer.Open, TimeSpan.FromSeconds(10));
        peer.Silent = true;
        var waiting = stream.CallAsync(new Box(1));
        await peer.Received.WaitAsync(Deadline);

        peer.BreakCurrent(new RpcException(new Status(StatusCode.Unavailable, "connection reset")));

        var error = await Assert.ThrowsAsync<RpcException>(() => waiting.WaitAsync(Deadline));
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        peer.Silent = false;
        Assert.Equal(-2, (await stream.CallAsync(new Box(2)).WaitAsync(Deadline)).Value);
        Assert.Equal(2, peer.Opened);
    }

    [Fact]
    public async Task AfterDisposalRequestsAreRefusedAndWaitingOnesFail()
    {
        var peer = new FakePeer { Silent = true };
        var stream = new OrderedCallStream<Box, Box>(peer.Open, TimeSpan.FromSeconds(10));
        var waiting = stream.CallAsync(new Box(1));
        await peer.Received.WaitAsync(Deadline);

        await stream.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting.WaitAsync(Deadline));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.CallAsync(new Box(2)).WaitAsync(Deadline));
    }

    public sealed record Box(int Value);

    /// <summary>
    /// Answers each request with its value negated, in order, unless silent. Every call it opens
    /// has its own reply channel, which <see cref="BreakCurrent"/> fails as a dropped connection would.
    /// </summary>
    private sealed class FakePeer
    {
        private readonly TaskCompletionSource _received = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private Channel<Box>? _current;
        private int _opened;
        private int _requests;

        public volatile bool Silent;

        public int Opened => Volatile.Read(ref _opened);

        /// <summary>Requests that reached the peer, on every call it opened.</summary>
        public int RequestsReceived => Volatile.Read(ref _requests);

        /// <summary>Completes once the first request has reached the peer.</summary>
        public Task Received => _received.Task;

        public AsyncDuplexStreamingCall<Box, Box> Open()
        {
            Interlocked.Increment(ref _opened);
            var replies = Channel.CreateUnbounded<Box>();
            _current = replies;
            var cancelled = new CancellationTokenSource();
            var requests = new Writer(request =>
            {
                Interlocked.Increment(ref _requests);
                _received.TrySetResult();
                if (!Silent)
                {
                    replies.Writer.TryWrite(new Box(-request.Value));
                }
            });
            return new AsyncDuplexStreamingCall<Box, Box>(
                requests,
                new Reader(replies.Reader, cancelled.Token),
                Task.FromResult(new Metadata()),
                () => Status.DefaultSuccess,
                () => [],
                () => cancelled.Cancel());
        }

        public void BreakCurrent(Exception error) => _current!.Writer.TryComplete(error);

        private sealed class Writer(Action<Box> receive) : IClientStreamWriter<Box>
        {
            public WriteOptions? WriteOptions { get; set; }

            public Task WriteAsync(Box message)
            {
                receive(message);
                return Task.CompletedTask;
            }

            public Task CompleteAsync() => Task.CompletedTask;
        }

        private sealed class Reader(ChannelReader<Box> replies, CancellationToken cancelled) : IAsyncStreamReader<Box>
        {
            public Box Current { get; private set; } = null!;

            public async Task<bool> MoveNext(CancellationToken cancellationToken)
            {
                using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, cancelled);
                try
                {
                    if (!await replies.WaitToReadAsync(both.Token))
                    {
                        return false;
                    }
                }
                catch (OperationCanceledException)
                {
                    throw new RpcException(new Status(StatusCode.Cancelled, "The call was cancelled."));
                }
                Current = replies.TryRead(out var reply) ? reply : throw new InvalidOperationException("No reply.");
                return true;
            }
        }
    }
}
