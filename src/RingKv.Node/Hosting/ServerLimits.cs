using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace RingKv.Node.Hosting;

/// <summary>
/// Kestrel limits, set deliberately (docs/API.md "Limits"): every one bounds what a hostile or
/// broken client can make the node hold in memory or wait for.
/// </summary>
public static class ServerLimits
{
    public const int MaxConnections = 4096;
    public const int MaxRequestHeadersTotalBytes = 32 * 1024;
    public const int MaxRequestHeaderCount = 100;
    public const int MaxRequestLineBytes = 8 * 1024;
    public static readonly TimeSpan RequestHeadersTimeout = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan KeepAliveTimeout = TimeSpan.FromSeconds(120);

    /// <summary>A body slower than 240 bytes/s after a 5 s grace is cut off (slow-body clients).</summary>
    public static readonly MinDataRate MinRequestBodyDataRate = new(bytesPerSecond: 240, gracePeriod: TimeSpan.FromSeconds(5));

    public static void Apply(KestrelServerLimits limits, NodeOptions options)
    {
        limits.MaxConcurrentConnections = MaxConnections;
        limits.MaxConcurrentUpgradedConnections = MaxConnections;
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalBytes;
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        limits.MaxRequestLineSize = MaxRequestLineBytes;
        limits.RequestHeadersTimeout = RequestHeadersTimeout;
        limits.KeepAliveTimeout = KeepAliveTimeout;
        limits.MinRequestBodyDataRate = MinRequestBodyDataRate;
        // One byte over the value limit: the API's own check answers 413 with a problem body first;
        // this is the safety net for any other endpoint.
        limits.MaxRequestBodySize = options.MaxValueBytes + 1L;
    }
}
