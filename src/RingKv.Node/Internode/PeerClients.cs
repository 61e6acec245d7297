using System.Collections.Concurrent;
using System.Net;
using Grpc.Net.Client;
using RingKv.Core.Versioning;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Membership;

namespace RingKv.Node.Internode;

/// <summary>
/// One gRPC channel per peer internode URL, kept for the life of the process: every call to a
/// peer is a stream multiplexed on its long-lived HTTP/2 connection, so replicating a key costs no
/// connection setup.
/// </summary>
public sealed class PeerClients(ClusterView view, HybridLogicalClock clock) : IDisposable
{
    private readonly ConcurrentDictionary<string, (GrpcChannel Channel, Protocol.Internode.InternodeClient Client)> _peers = new(StringComparer.Ordinal);

    public Protocol.Internode.InternodeClient For(string internodeUrl) =>
        _peers.GetOrAdd(internodeUrl, static url =>
        {
            var handler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(15),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(5),
                ConnectTimeout = TimeSpan.FromSeconds(2),
                AutomaticDecompression = DecompressionMethods.None,
            };
            var channel = GrpcChannel.ForAddress(url, new GrpcChannelOptions
            {
                HttpHandler = handler,
                MaxReceiveMessageSize = 64 * 1024 * 1024,
                MaxSendMessageSize = 64 * 1024 * 1024,
            });
            return (channel, new Protocol.Internode.InternodeClient(channel));
        }).Client;

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

    public void Dispose()
    {
        foreach (var (_, peer) in _peers)
        {
            peer.Channel.Dispose();
        }
        _peers.Clear();
    }
}
