using Grpc.Core;
using RingKv.Core.Versioning;
using RingKv.Node.Hosting;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Membership;
using RingKv.Node.Observability;
using RingKv.Storage;

namespace RingKv.Node.Internode;

/// <summary>
/// The receiving side of the internode protocol: serves this node's own replica. Never forwards:
/// the node that took the client request coordinates it.
/// </summary>
public sealed class InternodeService(IStorageEngine engine, ClusterView view, HybridLogicalClock clock, NodeOptions options, NodeMetrics metrics)
    : Protocol.Internode.InternodeBase
{
    private const int MaxListLimit = 1000;

    public override async Task<WriteReply> Write(WriteRequest request, ServerCallContext context)
    {
        Observe(request.Header);
        var reply = new WriteReply { Header = Header() };
        // All entries go to the engine at once, so they share one group commit rather than one each.
        var writes = new Task<WriteResult>[request.Entries.Count];
        for (var i = 0; i < writes.Length; i++)
        {
            var entry = request.Entries[i].ToEntry(options.MaxKeyBytes, options.MaxValueBytes)
                ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "An entry has an invalid key, value or content type."));
            clock.TryObserve(entry.Version.Timestamp);
            writes[i] = engine.WriteAsync(entry, WritePrecondition.None, context.CancellationToken).AsTask();
        }
        foreach (var result in await Task.WhenAll(writes))
        {
            reply.Statuses.Add(result.Status == WriteStatus.Applied ? 0 : 1);
        }
        metrics.InternodeReceived("write", request.Entries.Count);
        return reply;
    }

    public override Task<ReadReply> Read(ReadRequest request, ServerCallContext context)
    {
        Observe(request.Header);
        var reply = new ReadReply { Header = Header() };
        foreach (var key in request.Keys)
        {
            if (Core.Keys.KeyRules.Validate(key, options.MaxKeyBytes) != Core.Keys.KeyError.None)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, "Invalid key."));
            }
            var result = new ReadResult();
            if (engine.Get(key) is { } entry)
            {
                result.Found = true;
                result.Entry = entry.ToMessage();
            }
            reply.Results.Add(result);
        }
        metrics.InternodeReceived("read", request.Keys.Count);
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
