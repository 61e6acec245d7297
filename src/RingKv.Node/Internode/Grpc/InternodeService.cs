using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Hosting;
using RingKv.Core.AntiEntropy;
using RingKv.Core.Ring;
using RingKv.Core.Versioning;
using RingKv.Node.Hosting;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Membership;
using RingKv.Node.Observability;
using RingKv.Storage;
using RingKv.Storage.Hints;

namespace RingKv.Node.Internode.Grpc;

/// <summary>
/// The receiving side of the internode protocol: serves this node's own replica. Never forwards:
/// the node that took the client request coordinates it.
/// </summary>
public sealed partial class InternodeService(IStorageEngine engine, IHintStore hints, ClusterView view, HybridLogicalClock clock, NodeOptions options, NodeMetrics metrics, GrpcReplicaTransport peers,
    IHostApplicationLifetime lifetime)
    : Protocol.Internode.InternodeBase
{
    private const int MaxListLimit = 1000;
    private const int ChunkEntries = 512;

    /// <summary>What a read result costs in a reply besides its key and value: version, content type, framing.</summary>
    private const int ReadResultOverheadBytes = 128;

    /// <summary>A chunk is sent once its keys and values reach this many bytes, however few entries it has.</summary>
    private const int ChunkBytes = 4 * 1024 * 1024;

    /// <summary><see cref="Write"/> for each request message of the stream (see <see cref="ServeInOrderAsync"/>).</summary>
    public override Task WriteStream(IAsyncStreamReader<WriteRequest> requestStream, IServerStreamWriter<WriteReply> responseStream, ServerCallContext context) =>
        ServeInOrderAsync(requestStream, responseStream, context, Write);

    /// <summary><see cref="Read"/> for each request message of the stream (see <see cref="ServeInOrderAsync"/>).</summary>
    public override Task ReadStream(IAsyncStreamReader<ReadRequest> requestStream, IServerStreamWriter<ReadReply> responseStream, ServerCallContext context) =>
        ServeInOrderAsync(requestStream, responseStream, context, Read);

    /// <summary>
    /// Serves a peer's long-lived call: each request message is handled as it arrives (the group
    /// commits of writes overlap, as concurrent unary calls did) and answered in arrival order,
    /// which is how the sender matches replies to requests (<see cref="OrderedCallStream{TRequest, TReply}"/>).
    /// A failed request (not a member, an invalid entry) ends the call with its error: the sender
    /// fails what is still waiting and opens a new call. When this node stops, the call ends after
    /// the requests already received are answered: a call that never ended would hold up the
    /// server's graceful shutdown until it gave up and the process was killed.
    /// </summary>
    private async Task ServeInOrderAsync<TRequest, TReply>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TReply> responseStream,
        ServerCallContext context, Func<TRequest, ServerCallContext, Task<TReply>> handle)
    {
        // The call lives as long as the connection: its body has no total size (each message is
        // bounded by gRPC's message limit) and may be idle for a while without being a slow client.
        var features = context.GetHttpContext().Features;
        if (features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } body)
        {
            body.MaxRequestBodySize = null;
        }
        if (features.Get<IHttpMinRequestBodyDataRateFeature>() is { } rate)
        {
            rate.MinDataRate = null;
        }
        var handling = Channel.CreateUnbounded<Task<TReply>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var answering = AnswerAsync(handling.Reader, responseStream);
        using var receiving = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        try
        {
            while (await requestStream.MoveNext(receiving.Token))
            {
                handling.Writer.TryWrite(handle(requestStream.Current, context));
            }
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.CancellationToken.IsCancellationRequested)
        {
            // Stopping: answer what was received, then end the call.
        }
        finally
        {
            handling.Writer.TryComplete();
        }
        await answering;

        static async Task AnswerAsync(ChannelReader<Task<TReply>> handling, IServerStreamWriter<TReply> replies)
        {
            await foreach (var reply in handling.ReadAllAsync())
            {
                await replies.WriteAsync(await reply);
            }
        }
    }

    /// <summary>Starts the detail of the error a replica answers for a batch it cannot store: the sender counts it as not stored and falls back.</summary>
    public const string StorageRefusedPrefix = "storage-refused: ";

    public override async Task<WriteReply> Write(WriteRequest request, ServerCallContext context)
    {
        Observe(request.Header);
        RequireMember();
        try
        {
            return await WriteEntriesAsync(request, context);
        }
        catch (StorageRefusedException ex)
        {
            // Never answered as stored: the whole batch fails, so the sender's writes fall back to
            // hints on other nodes, and hints replayed here wait (HintedHandoff keeps them).
            throw new RpcException(new Status(StatusCode.Unavailable, StorageRefusedPrefix + ex.Message));
        }
    }

    private async Task<WriteReply> WriteEntriesAsync(WriteRequest request, ServerCallContext context)
    {
        if (engine.GetStorageStatus() is { AcceptsWrites: false } storage)
        {
            // Hints too: they live on the same disk.
            throw StorageRefusedException.For(storage);
        }
        var reply = new WriteReply();
        // All entries go to the engine at once, so they share one group commit rather than one each.
        var statuses = new ReplicaWriteStatus[request.Entries.Count];
        var applied = new List<StoredEntry>(request.Entries.Count);
        var appliedAt = new List<int>(request.Entries.Count);
        List<Task>? hinted = null;
        for (var i = 0; i < statuses.Length; i++)
        {
            var entry = request.Entries[i].ToEntry(options.MaxKeyBytes, options.MaxValueBytes)
                ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "An entry has an invalid key, value or content type."));
            if (!clock.TryObserve(entry.Version.Timestamp))
            {
                statuses[i] = RefuseTooFarAhead();
                continue;
            }
            var hintOwner = i < request.HintOwners.Count ? request.HintOwners[i] : string.Empty;
            if (hintOwner.Length > 0)
            {
                (hinted ??= []).Add(StoreHintAsync(hintOwner, entry, statuses, i, context.CancellationToken));
                continue;
            }
            applied.Add(entry);
            appliedAt.Add(i);
        }
        // The sender keeps a synced copy itself (--synced-acks one): answered from the log, synced shortly after.
        var durability = request.AckWhenLogged ? WriteDurability.Logged : WriteDurability.Synced;
        var results = await engine.WriteAllAsync(applied, durability, context.CancellationToken);
        metrics.ReplicaCopies(request.AckWhenLogged ? "logged" : "synced", applied.Count);
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].Status != WriteStatus.Applied)
            {
                // Stale: the writer re-stamps above what this replica kept, which it learns from our clock.
                clock.TryObserve(results[i].Current.Timestamp);
                statuses[appliedAt[i]] = ReplicaWriteStatus.Stale;
            }
        }
        if (hinted is not null)
        {
            await Task.WhenAll(hinted);
        }
        reply.Statuses.AddRange(statuses);
        // The header after the writes: a stale answer's clock is then past the version kept here.
        reply.Header = Header();
        metrics.InternodeReceived("write", request.Entries.Count);
        return reply;
    }

    public override Task<ReadReply> Read(ReadRequest request, ServerCallContext context)
    {
        Observe(request.Header);
        RequireMember();
        var reply = new ReadReply { Header = Header() };
        long bytes = 0;
        foreach (var key in request.Keys)
        {
            if (Core.Keys.KeyRules.Validate(key, options.MaxKeyBytes) != Core.Keys.KeyError.None)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "Invalid key."));
            }
            if (bytes >= ServerLimits.MaxReadReplyBytes)
            {
                // The keys left are asked again in the next call (internode.proto, ReadReply): a
                // batch of large values is never one reply of hundreds of MiB.
                break;
            }
            var result = new ReadResult();
            if (engine.Get(key) is { } entry)
            {
                result.Found = true;
                result.Entry = entry.ToMessage();
                bytes += entry.Value.Length;
            }
            bytes += key.Length + ReadResultOverheadBytes;
            reply.Results.Add(result);
        }
        metrics.InternodeReceived("read", reply.Results.Count);
        return Task.FromResult(reply);
    }

    public override Task<ListReply> List(ListRequest request, ServerCallContext context)
    {
        Observe(request.Header);
        var limit = Math.Clamp(request.Limit, 1, MaxListLimit);
        var after = request.HasAfterKey
            ? new ScanPosition(request.AfterToken, request.AfterKey.ToByteArray())
            : ScanPosition.AtToken(request.AfterToken);
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var slice = Data.LocalListing.Read(engine, request.Prefix, after, limit);
        var reply = new ListReply { Header = Header(), More = slice.More };
        foreach (var entry in slice.Entries)
        {
            reply.Keys.Add(new ListedKey
            {
                Key = entry.Key,
                Token = entry.Token,
                Timestamp = entry.Version.Timestamp,
                Writer = entry.Version.NodeId,
                Live = entry.IsLive(nowMs),
            });
        }
        if (slice.Last is { } last)
        {
            reply.LastToken = last.Token;
            reply.LastKey = Google.Protobuf.ByteString.CopyFrom(last.Key);
        }
        metrics.InternodeReceived("list", 1);
        return Task.FromResult(reply);
    }

    public override async Task StreamRange(StreamRangeRequest request, IServerStreamWriter<RangeChunk> responseStream, ServerCallContext context)
    {
        Observe(request.Header);
        var digest = RangeDigest.Empty;
        var chunk = new RangeChunk();
        long chunkBytes = 0;
        foreach (var entry in Data.RangeScan.Entries(engine, new TokenRange(request.Start, request.End)))
        {
            chunk.Entries.Add(entry.ToMessage());
            digest = digest.Add(RangeDigest.EntryHash(entry.Key, entry.Version, entry.Deleted, entry.Value));
            chunkBytes += entry.Value.Length + entry.Key.Length;
            if (chunk.Entries.Count == ChunkEntries || chunkBytes >= ChunkBytes)
            {
                await responseStream.WriteAsync(chunk, context.CancellationToken);
                metrics.InternodeSent("stream-range", chunk.Entries.Count);
                chunk = new RangeChunk();
                chunkBytes = 0;
            }
        }
        chunk.Last = true;
        chunk.Count = digest.Count;
        chunk.Digest = digest.Hash;
        await responseStream.WriteAsync(chunk, context.CancellationToken);
        metrics.InternodeSent("stream-range", chunk.Entries.Count);
    }

    /// <summary>
    /// Copies a range from a source into this node's replica and checks it end to end: the digest
    /// of every entry received must equal the digest the source computed of every entry it sent.
    /// Entries are applied with last-writer-wins, so writes arriving meanwhile are never undone and a
    /// retried transfer is harmless.
    /// </summary>
    public override async Task<PullRangeReply> PullRange(PullRangeRequest request, ServerCallContext context)
    {
        Observe(request.Header);
        var reply = new PullRangeReply { Header = Header() };
        var digest = RangeDigest.Empty;
        long bytes = 0;
        var started = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using var call = peers.For(request.Source).Client.StreamRange(
                new StreamRangeRequest { Header = peers.Header(), Start = request.Start, End = request.End },
                cancellationToken: context.CancellationToken);
            RangeChunk? last = null;
            await foreach (var chunk in call.ResponseStream.ReadAllAsync(context.CancellationToken))
            {
                var writes = new Task<WriteResult>[chunk.Entries.Count];
                for (var i = 0; i < writes.Length; i++)
                {
                    var entry = chunk.Entries[i].ToEntry(options.MaxKeyBytes, options.MaxValueBytes)
                        ?? throw new RpcException(new Status(StatusCode.DataLoss, "The source sent an invalid entry."));
                    digest = digest.Add(RangeDigest.EntryHash(entry.Key, entry.Version, entry.Deleted, entry.Value));
                    bytes += entry.Value.Length + entry.Key.Length;
                    if (!clock.TryObserve(entry.Version.Timestamp))
                    {
                        // Counted as received (the digest covers it), not stored: see RefuseTooFarAhead.
                        metrics.ClockRefusedEntry("transfer");
                        writes[i] = Task.FromResult(new WriteResult(WriteStatus.Stale, entry.Version));
                        continue;
                    }
                    writes[i] = engine.WriteAsync(entry, WritePrecondition.None, context.CancellationToken).AsTask();
                }
                await Task.WhenAll(writes);
                metrics.InternodeReceived("stream-range", writes.Length);
                if (chunk.Last)
                {
                    last = chunk;
                }
                // Pace to the rate limit so transfers leave room for foreground requests.
                if (request.RateLimit > 0)
                {
                    var due = TimeSpan.FromSeconds((double)digest.Count / request.RateLimit) - started.Elapsed;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, context.CancellationToken);
                    }
                }
            }
            reply.Keys = digest.Count;
            reply.Bytes = bytes;
            reply.Verified = last is not null && last.Count == digest.Count && last.Digest == digest.Hash;
            if (!reply.Verified)
            {
                reply.Error = last is null
                    ? "The stream ended without its closing digest."
                    : $"Digest mismatch: the source sent {last.Count} entries, {digest.Count} arrived.";
            }
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
        {
            reply.Error = $"Source {request.Source} failed: {ex.Status.Detail}";
        }
        catch (HttpRequestException ex)
        {
            reply.Error = $"Source {request.Source} unreachable: {ex.Message}";
        }
        catch (StorageRefusedException ex)
        {
            // Unverified, so the transfer is retried or rolled back, as for any failed range.
            reply.Error = $"This node cannot store the range: {ex.Message}";
        }
        return reply;
    }

    private async Task StoreHintAsync(string owner, StoredEntry entry, ReplicaWriteStatus[] statuses, int at, CancellationToken cancellationToken) =>
        statuses[at] = await hints.AddAsync(owner, entry, cancellationToken) ? ReplicaWriteStatus.Applied : ReplicaWriteStatus.HintRefused;

    /// <summary>
    /// Drops a range this node no longer replicates. Only ranges its current map gives to others
    /// are dropped: a late or replayed request can never delete data the node still owns.
    /// </summary>
    public override async Task<DropRangeReply> DropRange(DropRangeRequest request, ServerCallContext context)
    {
        Observe(request.Header);
        var range = new TokenRange(request.Start, request.End);
        if (view.Map is { } map && view.SelfId is { } self && map.FindMember(self) is not null)
        {
            var probe = range.IsFull ? 0 : range.Start + 1;
            if (map.Ring.PreferenceList(probe, map.ReplicationFactor).Contains(self) || map.FutureRing.PreferenceList(probe, map.ReplicationFactor).Contains(self))
            {
                throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{self} still replicates {range} at epoch {map.Epoch}."));
            }
        }
        // Nothing held there (the usual case after a quiet epoch): no delete, no range tombstone.
        if (!Data.RangeScan.Entries(engine, range).Any())
        {
            return new DropRangeReply { Header = Header() };
        }
        if (range.IsFull)
        {
            await engine.DeleteTokensAsync(0, ulong.MaxValue);
        }
        else if (range.Wraps)
        {
            if (range.Start != ulong.MaxValue)
            {
                await engine.DeleteTokensAsync(range.Start + 1, ulong.MaxValue);
            }
            await engine.DeleteTokensAsync(0, range.End);
        }
        else
        {
            await engine.DeleteTokensAsync(range.Start + 1, range.End);
        }
        return new DropRangeReply { Header = Header() };
    }

    /// <summary>A node that is no longer in the map (evicted) must not count as a replica: its data may be stale.</summary>
    private void RequireMember()
    {
        if (view.SelfId is { } self && view.Map is { } map && map.FindMember(self) is null)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{self} is not a member of the cluster at epoch {map.Epoch}."));
        }
    }

    private void Observe(Header? header)
    {
        if (header is null)
        {
            return;
        }
        view.ObserveEpoch(header.Epoch);
        clock.TryObserve(header.Clock);
    }

    private Header Header() => new() { Epoch = view.Epoch, Clock = clock.Last, Sender = view.SelfId ?? string.Empty };
}
