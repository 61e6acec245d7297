using System.Collections.Concurrent;
using System.Net;
using Grpc.Core;
using Grpc.Net.Client;
using RingKv.Core.Versioning;
using RingKv.Node.Hosting;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Membership;
using RingKv.Node.Observability;
using RingKv.Node.Security;
using RingKv.Node.Security.Tls;

namespace RingKv.Node.Internode;

/// <summary>
/// One connection per peer internode URL, kept for the life of the process: a gRPC channel over a
/// long-lived HTTP/2 connection, with writes and reads to that peer coalesced into batched calls
/// (<see cref="CoalescingBatcher{TItem, TResult}"/>). With TLS the connection is mutual TLS: the
/// peer's certificate must chain to the cluster's authority and name the address dialled, and we
/// show ours.
/// </summary>
public sealed class PeerClients(ClusterView view, HybridLogicalClock clock, NodeOptions options, NodeMetrics metrics, ClusterSecret secret, ClusterTls tls) : IAsyncDisposable
{
    private const int MaxBatch = 256;
    private const int MaxCallsInFlight = 4;

    /// <summary>
    /// Most value and key bytes in one write call. A batch of 256 large values would be a message
    /// of hundreds of MiB, held whole in memory at both ends; the receiving node refuses anything
    /// over <see cref="ServerLimits.InternodeMaxMessageBytes"/>.
    /// </summary>
    private const long MaxBatchBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Most value and key bytes of writes waiting for one peer. A write waits while four calls to
    /// that peer are in flight; a peer slower than the rate of writes (a quorum does not wait for
    /// it) would otherwise make this node hold every value it has not taken yet. Past the bound its
    /// writes fail at once, as if it had timed out: the quorum goes on with the others, a fallback
    /// keeps a hint where there is one, and anti-entropy brings the peer up to date.
    /// </summary>
    private const long MaxBacklogBytes = 32 * 1024 * 1024;

    /// <summary>What an entry costs on the wire besides its key and value: version, flags, content type, framing.</summary>
    private const int EntryOverheadBytes = 128;

    private readonly ConcurrentDictionary<string, Peer> _peers = new(StringComparer.Ordinal);

    public Peer For(string internodeUrl) =>
        // The lookup first: GetOrAdd with a lambda that captures this would allocate on every call.
        _peers.TryGetValue(internodeUrl, out var peer) ? peer : _peers.GetOrAdd(internodeUrl, static (url, owner) => new Peer(owner, url), this);

    /// <summary>The header every internode request carries: our epoch, clock and id.</summary>
    public Header Header() => new() { Epoch = view.Epoch, Clock = clock.Now(), Sender = view.SelfId ?? string.Empty };

    /// <summary>Takes in what a reply's header tells us: a newer epoch to fetch, a clock to follow.</summary>
    public void Observe(Header? header)
    {
        if (header is not null)
        {
            view.ObserveEpoch(header.Epoch);
            clock.TryObserve(header.Clock);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, peer) in _peers)
        {
            await peer.DisposeAsync();
        }
        _peers.Clear();
    }

    /// <summary>A peer: its gRPC client and the batchers that coalesce calls to it.</summary>
    public sealed class Peer : IAsyncDisposable
    {
        private readonly PeerClients _owner;
        private readonly string _url;
        private readonly GrpcChannel _channel;
        private readonly CoalescingBatcher<(Entry Entry, string HintOwner, bool Logged), int> _writes;
        private readonly CoalescingBatcher<string, ReadResult> _reads;
        private readonly OrderedCallStream<WriteRequest, WriteReply> _writeStream;
        private readonly OrderedCallStream<ReadRequest, ReadReply> _readStream;
        // Set once a peer turns out not to know the stream methods (an older version): calls, one per batch, from then on.
        private volatile bool _unaryOnly;

        public Peer(PeerClients owner, string url)
        {
            _owner = owner;
            _url = url;
            var handler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                // A connection whose packets are being dropped (a partition) is not refused, it hangs:
                // every call on it runs into its deadline until TCP's backed-off retransmission gets
                // through, many seconds after the network healed. A ping after 2 s without a frame
                // from the peer finds such a connection within 12 s and drops it; calls then open a
                // new one. The 10 s answer time spares a peer that is only slow (a loaded machine).
                KeepAlivePingDelay = TimeSpan.FromSeconds(2),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
                ConnectTimeout = TimeSpan.FromSeconds(2),
                AutomaticDecompression = DecompressionMethods.None,
            };
            _channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions
            {
                HttpHandler = owner._secret.Handler(owner._tls.Apply(handler)),
                MaxReceiveMessageSize = 512 * 1024 * 1024,
                MaxSendMessageSize = 512 * 1024 * 1024,
            });
            Client = new Protocol.Internode.InternodeClient(_channel);
            _writeStream = new(() => Client.WriteStream(), owner.RequestTimeout);
            _readStream = new(() => Client.ReadStream(), owner.RequestTimeout);
            _writes = new(SendWritesAsync, MaxBatch, MaxCallsInFlight,
                static item => item.Entry.Value.Length + item.Entry.Key.Length + item.Entry.ContentType.Length + EntryOverheadBytes, MaxBatchBytes, MaxBacklogBytes);
            _reads = new(SendReadsAsync, MaxBatch, MaxCallsInFlight);
        }

        public Protocol.Internode.InternodeClient Client { get; }

        /// <summary>Applies an entry on the peer; 0 applied, 1 stale (a newer version was kept).</summary>
        public Task<int> WriteAsync(Entry entry) => Send(entry, string.Empty);

        /// <summary>Asks the peer to keep an entry as a hint for a down owner; 0 stored, 2 refused (its hint store is full).</summary>
        public Task<int> WriteHintAsync(Entry entry, string owner) => Send(entry, owner);

        /// <summary>
        /// Applies an entry on the peer and tells <paramref name="target"/> the status as
        /// <paramref name="slot"/> (as <see cref="WriteAsync"/>), or the failure. False: too many
        /// bytes already wait for this peer, and nothing was sent (<see cref="Backlogged"/>).
        /// </summary>
        /// <param name="logged">
        /// The peer may answer once the entry is in its write-ahead log, before its sync: this node
        /// keeps a synced copy itself (<c>--synced-acks one</c>). A batch with any entry that is not
        /// so is answered after the sync.
        /// </param>
        public bool TryWrite(Entry entry, bool logged, IBatchCompletion<int> target, int slot) => _writes.TrySend((entry, string.Empty, logged), target, slot);

        /// <summary>The failure of a write refused because too many bytes already wait for this peer.</summary>
        public RpcException Backlogged() => new(new Status(StatusCode.ResourceExhausted,
            $"More than {MaxBacklogBytes / (1024 * 1024)} MiB of writes are waiting to be sent to {_url}."));

        private Task<int> Send(Entry entry, string hintOwner) =>
            _writes.TrySend((entry, hintOwner, false), out var result) ? result : Task.FromException<int>(Backlogged());

        /// <summary>Reads a key on the peer and tells <paramref name="target"/> the result as <paramref name="slot"/>, or the failure.</summary>
        public void Read(string key, IBatchCompletion<ReadResult> target, int slot) => _reads.TrySend(key, target, slot);

        public async ValueTask DisposeAsync()
        {
            await _writes.DisposeAsync();
            await _reads.DisposeAsync();
            await _writeStream.DisposeAsync();
            await _readStream.DisposeAsync();
            _channel.Dispose();
        }

        private async Task<IReadOnlyList<int>> SendWritesAsync(IReadOnlyList<(Entry Entry, string HintOwner, bool Logged)> entries)
        {
            var request = new WriteRequest { Header = _owner.Header() };
            var hinted = false;
            var logged = true;
            foreach (var (entry, hintOwner, entryLogged) in entries)
            {
                request.Entries.Add(entry);
                request.HintOwners.Add(hintOwner);
                hinted |= hintOwner.Length > 0;
                logged &= entryLogged;
            }
            if (!hinted)
            {
                request.HintOwners.Clear();
            }
            request.AckWhenLogged = logged;
            var reply = await CallAsync(_writeStream, request, request => Client.WriteAsync(request, deadline: DateTime.UtcNow + _owner.RequestTimeout).ResponseAsync);
            _owner.Observe(reply.Header);
            _owner.Sent("write", entries.Count);
            return reply.Statuses;
        }

        /// <summary>
        /// A batch on the peer's stream of its kind; with a peer that does not have the stream
        /// methods (an older version), one <paramref name="unary"/> call per batch from then on.
        /// </summary>
        private async Task<TReply> CallAsync<TRequest, TReply>(OrderedCallStream<TRequest, TReply> stream, TRequest request, Func<TRequest, Task<TReply>> unary)
            where TRequest : class
            where TReply : class
        {
            if (!_unaryOnly)
            {
                try
                {
                    return await stream.CallAsync(request);
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unimplemented)
                {
                    _unaryOnly = true;
                }
            }
            return await unary(request);
        }

        private async Task<IReadOnlyList<ReadResult>> SendReadsAsync(IReadOnlyList<string> keys)
        {
            var deadline = DateTime.UtcNow + _owner.RequestTimeout;
            List<ReadResult>? gathered = null;
            for (var asked = 0; asked < keys.Count;)
            {
                var request = new ReadRequest { Header = _owner.Header() };
                for (var i = asked; i < keys.Count; i++)
                {
                    request.Keys.Add(keys[i]);
                }
                var reply = await CallAsync(_readStream, request, request => Client.ReadAsync(request, deadline: deadline).ResponseAsync);
                _owner.Observe(reply.Header);
                _owner.Sent("read", reply.Results.Count);
                if (reply.Results.Count == 0 || reply.Results.Count > request.Keys.Count)
                {
                    throw new RpcException(new Status(StatusCode.Internal, $"{_url} answered {reply.Results.Count} results for {request.Keys.Count} keys."));
                }
                if (gathered is null && reply.Results.Count == keys.Count)
                {
                    return reply.Results;
                }
                // A reply at its size bound answers the first keys only (internode.proto, ReadReply); the rest are asked again.
                (gathered ??= new List<ReadResult>(keys.Count)).AddRange(reply.Results);
                asked += reply.Results.Count;
            }
            return gathered ?? [];
        }
    }

    private readonly ClusterSecret _secret = secret;
    private readonly ClusterTls _tls = tls;

    private TimeSpan RequestTimeout => options.RequestTimeout;

    private void Sent(string method, int entries) => metrics.InternodeSent(method, entries);
}
