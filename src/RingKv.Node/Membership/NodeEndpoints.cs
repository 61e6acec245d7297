using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace RingKv.Node.Membership;

/// <summary>
/// The node's two listeners. Kestrel writes the bound port back into each ListenOptions once it
/// has bound (port 0 picks a free one), so the URLs are known after start and can be reported to
/// the coordinator.
/// </summary>
public sealed class NodeEndpoints
{
    public ListenOptions? Client { get; set; }

    /// <summary><c>https</c> when the listeners serve TLS, else <c>http</c>.</summary>
    public string Scheme { get; set; } = Uri.UriSchemeHttp;

    public ListenOptions? Internode { get; set; }

    public string ClientUrl => UrlOf(Client);

    public string InternodeUrl => UrlOf(Internode);

    private string UrlOf(ListenOptions? listen) => listen?.IPEndPoint is { } endpoint
        ? Scheme + "://" + (endpoint.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "[" + endpoint.Address + "]" : endpoint.Address.ToString()) + ":" + endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : throw new InvalidOperationException("The listener is not bound yet.");
}
