using System.Collections.Concurrent;
using Grpc.Core;
using RingKv.Core.Versioning;
using RingKv.Node.Hosting;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Membership;
using RingKv.Node.Observability;
using RingKv.Node.Security;
using RingKv.Node.Security.Tls;

namespace RingKv.Node.Internode.Grpc;

/// <summary>
/// The replica transport over the internode gRPC protocol: one connection per peer internode URL,
/// kept for the life of the process (a gRPC channel over a long-lived HTTP/2 connection), with
/// writes and reads to that peer coalesced into batches on long-lived calls (<see cref="GrpcReplicaPeer"/>).
/// With TLS the connection is mutual TLS: the peer's certificate must chain to the cluster's
/// authority and name the address dialled, and we show ours. gRPC's types stay in here: callers
/// see entries, outcomes and <see cref="ReplicaCallException"/>.
/// </summary>
public sealed class GrpcReplicaTransport(ClusterView view, HybridLogicalClock clock, NodeOptions options, NodeMetrics metrics, ClusterSecret secret, ClusterTls tls)
    : IReplicaTransport, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, GrpcReplicaPeer> _peers = new(StringComparer.Ordinal);

    public GrpcReplicaPeer For(string internodeUrl) =>
        // The lookup first: GetOrAdd with a lambda that captures this would allocate on every call.
        _peers.TryGetValue(internodeUrl, out var peer) ? peer : _peers.GetOrAdd(internodeUrl, static (url, owner) => new GrpcReplicaPeer(owner, url), this);

    IReplicaPeer IReplicaTransport.For(string internodeUrl) => For(internodeUrl);

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

    /// <summary>
    /// A failed call as the seam's failure: a deadline is a timeout, a refusal for lack of room a
    /// backlog (<see cref="GrpcReplicaPeer.Backlogged"/>), anything else an error.
    /// </summary>
    public static ReplicaCallException Failure(Exception error) => error switch
    {
        ReplicaCallException known => known,
        RpcException { StatusCode: StatusCode.DeadlineExceeded } rpc => new(ReplicaFailure.Timeout, rpc.Status.Detail, rpc),
        RpcException { StatusCode: StatusCode.ResourceExhausted } rpc => new(ReplicaFailure.Backlogged, rpc.Status.Detail, rpc),
        RpcException { StatusCode: StatusCode.Unavailable } rpc when rpc.Status.Detail.StartsWith(InternodeService.StorageRefusedPrefix, StringComparison.Ordinal) =>
            new(ReplicaFailure.StorageRefused, rpc.Status.Detail, rpc),
        RpcException rpc => new(ReplicaFailure.Error, rpc.Status.Detail.Length > 0 ? rpc.Status.Detail : rpc.Message, rpc),
        _ => new(ReplicaFailure.Error, error.Message, error),
    };

    /// <summary>Whether <paramref name="error"/> is a failed call to a peer (rather than a bug or a shutdown here).</summary>
    public static bool IsCallFailure(Exception error) => error is RpcException or HttpRequestException;

    internal NodeOptions Options => options;

    internal ClusterSecret Secret => secret;

    internal ClusterTls Tls => tls;

    internal void Sent(string method, int entries) => metrics.InternodeSent(method, entries);

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, peer) in _peers)
        {
            await peer.DisposeAsync();
        }
        _peers.Clear();
    }
}
