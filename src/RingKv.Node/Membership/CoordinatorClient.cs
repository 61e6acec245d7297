using RingKv.Node.Security.Tls;

namespace RingKv.Node.Membership;

/// <summary>
/// The client a node forwards public cluster queries (<c>GET /v1/cluster</c>) to the coordinator
/// with: short timeout (the node answers from its own map instead), and with TLS it trusts only
/// the cluster's authority.
/// </summary>
public sealed class CoordinatorClient(ClusterTls tls) : IDisposable
{
    public HttpClient Http { get; } = new(tls.Apply(new SocketsHttpHandler())) { Timeout = TimeSpan.FromSeconds(2) };

    public void Dispose() => Http.Dispose();
}
