using System.Net;
using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RingKv.Core.AntiEntropy;
using RingKv.Core.Ring;
using RingKv.Core.Versioning;
using RingKv.Node.Data;
using RingKv.Node.Hosting;
using RingKv.Node.Internode.Protocol;
using RingKv.Storage;

namespace RingKv.Node.Internode.Grpc;

/// <summary>
/// A peer over gRPC: its channel, and the batchers that coalesce calls to it
/// (<see cref="CoalescingBatcher{TItem, TResult}"/>), each batch one message of a long-lived call
/// (<see cref="OrderedCallStream{TRequest, TReply}"/>).
/// </summary>
public sealed class GrpcReplicaPeer : IReplicaPeer, IAsyncDisposable
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

    private readonly GrpcReplicaTransport _owner;
    private readonly string _url;
    private readonly GrpcChannel _channel;
    private readonly CoalescingBatcher<PendingWrite, ReplicaWriteOutcome> _writes;
    private readonly CoalescingBatcher<string, StoredEntry?> _reads;
    private readonly OrderedCallStream<WriteRequest, WriteReply> _writeStream;
    private readonly OrderedCallStream<ReadRequest, ReadReply> _readStream;

    public GrpcReplicaPeer(GrpcReplicaTransport owner, string url)
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
            HttpHandler = owner.Secret.Handler(owner.Tls.Apply(handler)),
            MaxReceiveMessageSize = 512 * 1024 * 1024,
            MaxSendMessageSize = 512 * 1024 * 1024,
        });
        Client = new Protocol.Internode.InternodeClient(_channel);
        _writeStream = new(() => Client.WriteStream(), RequestTimeout);
        _readStream = new(() => Client.ReadStream(), RequestTimeout);
        _writes = new(SendWritesAsync, MaxBatch, MaxCallsInFlight,
            static item => item.Entry.Value.Length + item.Entry.Key.Length + item.Entry.ContentType.Length + EntryOverheadBytes, MaxBatchBytes, MaxBacklogBytes);
        _reads = new(SendReadsAsync, MaxBatch, MaxCallsInFlight);
    }

    /// <summary>The generated client, for the calls that are not replica traffic (transfers, tombstone purges).</summary>
    public Protocol.Internode.InternodeClient Client { get; }

    private TimeSpan RequestTimeout => _owner.Options.RequestTimeout;

    public Task<ReplicaWriteOutcome> WriteAsync(StoredEntry entry) => Send(entry, string.Empty);

    public Task<ReplicaWriteOutcome> WriteHintAsync(StoredEntry entry, string owner) => Send(entry, owner);

    public bool TryWrite(StoredEntry entry, bool logged, IBatchCompletion<ReplicaWriteOutcome> target, int slot) =>
        _writes.TrySend(new PendingWrite(entry, string.Empty, logged), target, slot);

    public ReplicaCallException Backlogged() => new(ReplicaFailure.Backlogged,
        $"More than {MaxBacklogBytes / (1024 * 1024)} MiB of writes are waiting to be sent to {_url}.");

    private Task<ReplicaWriteOutcome> Send(StoredEntry entry, string hintOwner) =>
        _writes.TrySend(new PendingWrite(entry, hintOwner, false), out var result) ? result : Task.FromException<ReplicaWriteOutcome>(Backlogged());

    public void Read(string key, IBatchCompletion<StoredEntry?> target, int slot) => _reads.TrySend(key, target, slot);

    public async Task<LocalListing.Slice> ListAsync(string prefix, ScanPosition after, int limit, CancellationToken cancellationToken)
    {
        var request = new ListRequest { Header = _owner.Header(), AfterToken = after.Token, Limit = limit, Prefix = prefix };
        if (after.Key is not null)
        {
            request.HasAfterKey = true;
            request.AfterKey = ByteString.CopyFrom(after.Key);
        }
        ListReply reply;
        try
        {
            reply = await Client.ListAsync(request, deadline: DateTime.UtcNow + RequestTimeout, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (GrpcReplicaTransport.IsCallFailure(ex))
        {
            throw GrpcReplicaTransport.Failure(ex);
        }
        _owner.Sent("list", 1);
        _owner.Observe(reply.Header);
        var entries = reply.Keys.Select(k => new StoredEntry(k.Key, k.Token, [], StoredEntry.DefaultContentType,
            new EntryVersion(k.Timestamp, k.Writer), Deleted: !k.Live, ExpiresAtMs: 0)).ToList();
        ScanPosition? last = reply.LastKey.IsEmpty ? null : new ScanPosition(reply.LastToken, reply.LastKey.ToByteArray());
        return new LocalListing.Slice(entries, last, reply.More);
    }

    public async Task<IReadOnlyList<RangeDigest>> RangeTreeAsync(TokenRange range, int depth, TimeSpan timeout, CancellationToken cancellationToken)
    {
        RangeTreeReply reply;
        try
        {
            reply = await Client.RangeTreeAsync(
                new RangeTreeRequest { Header = _owner.Header(), Start = range.Start, End = range.End, Depth = depth },
                deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (GrpcReplicaTransport.IsCallFailure(ex))
        {
            throw GrpcReplicaTransport.Failure(ex);
        }
        _owner.Observe(reply.Header);
        return reply.Leaves.Select(leaf => new RangeDigest(leaf.Hash, leaf.Count)).ToList();
    }

    public async IAsyncEnumerable<EntryChunk> StreamRangeAsync(TokenRange range, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var options = _owner.Options;
        AsyncServerStreamingCall<Protocol.RangeChunk> opened;
        try
        {
            opened = Client.StreamRange(
                new StreamRangeRequest { Header = _owner.Header(), Start = range.Start, End = range.End },
                deadline: DateTime.UtcNow + timeout, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (GrpcReplicaTransport.IsCallFailure(ex))
        {
            throw GrpcReplicaTransport.Failure(ex);
        }
        using var call = opened;
        while (true)
        {
            Protocol.RangeChunk chunk;
            try
            {
                if (!await call.ResponseStream.MoveNext(cancellationToken))
                {
                    yield break;
                }
                chunk = call.ResponseStream.Current;
            }
            catch (Exception ex) when (GrpcReplicaTransport.IsCallFailure(ex))
            {
                throw GrpcReplicaTransport.Failure(ex);
            }
            var entries = new List<StoredEntry>(chunk.Entries.Count);
            foreach (var message in chunk.Entries)
            {
                entries.Add(message.ToEntry(options.MaxKeyBytes, options.MaxValueBytes)
                    ?? throw new InvalidDataException($"{_url} sent an invalid entry while streaming {range}."));
            }
            yield return new EntryChunk(entries, chunk.Last);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _writes.DisposeAsync();
        await _reads.DisposeAsync();
        await _writeStream.DisposeAsync();
        await _readStream.DisposeAsync();
        _channel.Dispose();
    }

    private async Task<IReadOnlyList<ReplicaWriteOutcome>> SendWritesAsync(IReadOnlyList<PendingWrite> writes)
    {
        var request = new WriteRequest { Header = _owner.Header() };
        var hinted = false;
        var logged = true;
        foreach (var (entry, hintOwner, entryLogged) in writes)
        {
            request.Entries.Add(entry.ToMessage());
            request.HintOwners.Add(hintOwner);
            hinted |= hintOwner.Length > 0;
            logged &= entryLogged;
        }
        if (!hinted)
        {
            request.HintOwners.Clear();
        }
        request.AckWhenLogged = logged;
        WriteReply reply;
        try
        {
            reply = await _writeStream.CallAsync(request);
        }
        catch (Exception ex) when (GrpcReplicaTransport.IsCallFailure(ex))
        {
            throw GrpcReplicaTransport.Failure(ex);
        }
        _owner.Observe(reply.Header);
        _owner.Sent("write", writes.Count);
        var outcomes = new ReplicaWriteOutcome[reply.Statuses.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            outcomes[i] = reply.Statuses[i].ToOutcome();
        }
        return outcomes;
    }

    private async Task<IReadOnlyList<StoredEntry?>> SendReadsAsync(IReadOnlyList<string> keys)
    {
        var options = _owner.Options;
        var entries = new StoredEntry?[keys.Count];
        for (var asked = 0; asked < keys.Count;)
        {
            var request = new ReadRequest { Header = _owner.Header() };
            for (var i = asked; i < keys.Count; i++)
            {
                request.Keys.Add(keys[i]);
            }
            ReadReply reply;
            try
            {
                reply = await _readStream.CallAsync(request);
            }
            catch (Exception ex) when (GrpcReplicaTransport.IsCallFailure(ex))
            {
                throw GrpcReplicaTransport.Failure(ex);
            }
            _owner.Observe(reply.Header);
            _owner.Sent("read", reply.Results.Count);
            if (reply.Results.Count == 0 || reply.Results.Count > request.Keys.Count)
            {
                throw new ReplicaCallException(ReplicaFailure.Error, $"{_url} answered {reply.Results.Count} results for {request.Keys.Count} keys.");
            }
            // A copy that is not a valid entry is no copy: a peer is never trusted to send a valid
            // key, a value within the limit or a content type fit for a response header.
            foreach (var result in reply.Results)
            {
                entries[asked++] = result.Found ? result.Entry.ToEntry(options.MaxKeyBytes, options.MaxValueBytes) : null;
            }
            // A reply at its size bound answers the first keys only (internode.proto, ReadReply); the rest are asked again.
        }
        return entries;
    }

    /// <param name="HintOwner">Empty for a replica write; else the down owner the peer keeps the entry for.</param>
    private readonly record struct PendingWrite(StoredEntry Entry, string HintOwner, bool Logged);
}
