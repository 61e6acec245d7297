using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using RingKv.Core.Keys;

namespace RingKv.Node.Api;

/// <summary>
/// Takes the key from the raw request target, not from the routed path: ASP.NET Core has already
/// decoded the path and removed dot segments, so <c>/v1/kv/a/../b</c> would silently become key
/// <c>b</c>. Decoding the raw target ourselves decodes exactly once and sees what the client sent.
/// </summary>
public static class RequestKey
{
    public const string Prefix = "/v1/kv/";

    /// <summary>
    /// True when the client addressed a key (<c>/v1/kv/...</c> in the raw target) but the routed
    /// path no longer does: a dot segment took it elsewhere. Refused before routing, as a bad key.
    /// </summary>
    public static bool WasRewrittenAwayFromKeys(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        return raw is not null &&
               raw.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) &&
               !(context.Request.Path.Value ?? string.Empty).StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);
    }

    public static KeyError TryGet(HttpContext context, int maxKeyBytes, out string key) => TryGet(context, Prefix, maxKeyBytes, out key);

    /// <summary>The key after <paramref name="prefix"/> (e.g. <c>/v1/cluster/locate/</c>) in the raw target.</summary>
    public static KeyError TryGet(HttpContext context, string prefix, int maxKeyBytes, out string key)
    {
        key = string.Empty;
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? string.Empty;
        var target = raw.AsSpan();
        var query = target.IndexOf('?');
        if (query >= 0)
        {
            target = target[..query];
        }
        // Absolute-form targets (GET http://host/v1/kv/x): skip scheme and authority.
        if (!target.StartsWith("/", StringComparison.Ordinal))
        {
            var scheme = target.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0)
            {
                return KeyError.InvalidPercentEncoding;
            }
            var path = target[(scheme + 3)..].IndexOf('/');
            target = path < 0 ? [] : target[(scheme + 3 + path)..];
        }
        if (target.Equals(prefix.AsSpan(0, prefix.Length - 1), StringComparison.OrdinalIgnoreCase))
        {
            return KeyError.Empty;
        }
        if (!target.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            // Only a normalised-away dot segment gets here: the route matched /v1/kv/..., the raw target did not.
            return KeyError.DotSegment;
        }
        return KeyRules.TryDecode(target[prefix.Length..], maxKeyBytes, out key);
    }
}
