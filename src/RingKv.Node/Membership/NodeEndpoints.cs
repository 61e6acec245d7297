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

    /// <summary>The Redis-protocol listener; null when the node has it off.</summary>
    public ListenOptions? Resp { get; set; }

    /// <summary>The host other machines dial (NodeOptions.AdvertiseHost); null: the bound address.</summary>
    public string? AdvertiseHost { get; set; }

    public string ClientUrl => UrlOf(Client);

    /// <summary><c>redis://host:port</c>, or <c>rediss://</c> with TLS; null without a RESP listener.</summary>
    public string? RespUrl => Resp is null ? null : (Scheme == Uri.UriSchemeHttps ? "rediss" : "redis") + UrlOf(Resp)[Scheme.Length..];

    public string InternodeUrl => UrlOf(Internode);

    private string UrlOf(ListenOptions? listen) => listen?.IPEndPoint is { } endpoint
        ? Scheme + "://" + Host(endpoint.Address) + ":" + endpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : throw new InvalidOperationException("The listener is not bound yet.");

    private string Host(System.Net.IPAddress bound)
    {
        var host = AdvertiseHost?.Trim('[', ']') ?? bound.ToString();
        return Uri.CheckHostName(host) == UriHostNameType.IPv6 ? "[" + host + "]" : host;
    }
}
