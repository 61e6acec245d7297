using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace RingKv.Node.Hosting;

/// <summary>
/// Kestrel limits, set deliberately (docs/API.md "Limits"): every one bounds what a hostile or
/// broken client can make a server hold in memory or wait for. The defaults are the ones an
/// operator gets; the timeouts and the connection count can be lowered (tests use short ones so
/// a slow client is cut off within seconds).
/// </summary>
public sealed class ServerLimits
{
    public const int MaxRequestHeadersTotalBytes = 32 * 1024;
    public const int MaxRequestHeaderCount = 100;
    public const int MaxRequestLineBytes = 8 * 1024;

    /// <summary>Kestrel's timeouts are checked by a once-a-second heartbeat; a shorter one would not be honoured.</summary>
    public static readonly TimeSpan ShortestTimeout = TimeSpan.FromSeconds(2);

    // HTTP/2 (internode): what one peer connection may hold. Values Kestrel would pick too, written
    // down so a framework upgrade cannot silently widen them.
    public const int Http2MaxStreamsPerConnection = 100;
    public const int Http2MaxFrameBytes = 16 * 1024;
    public const int Http2HeaderTableBytes = 4 * 1024;
    public const int Http2MaxHeaderFieldBytes = 32 * 1024;

    /// <summary>
    /// Largest internode gRPC message a node accepts. A member's write call coalesces many entries,
    /// so it may exceed the client value limit: once the caller has shown the cluster secret, this
    /// bounds its request body instead (gRPC's 5-byte message prefix on top).
    /// </summary>
    public const int InternodeMaxMessageBytes = 64 * 1024 * 1024;

    /// <summary>
    /// Values and keys in one internode read reply, past which a replica stops and the caller asks
    /// again for the keys left: a coalesced read of 256 keys of 1 MiB values would otherwise be one
    /// 256 MiB message, held whole at both ends. The write side is cut the same way (GrpcReplicaPeer).
    /// </summary>
    public const int MaxReadReplyBytes = 4 * 1024 * 1024;

    /// <summary>Concurrent connections per listener. Default 4096: a flood of idle connections cannot exhaust memory or file descriptors.</summary>
    public int MaxConnections { get; set; } = 4096;

    /// <summary>How long a client may take to send its request headers. Default 10 s (slow-header clients).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an idle connection stays open. Default 120 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>A body slower than <see cref="MinBodyBytesPerSecond"/> after this grace is cut off with 408. Default 5 s.</summary>
    public TimeSpan MinBodyRateGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Default 240 bytes/s: a 1 MiB value still has over an hour; a slow-body (slowloris) client does not.</summary>
    public double MinBodyBytesPerSecond { get; set; } = 240;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(RequestHeadersTimeout, ShortestTimeout);
        ArgumentOutOfRangeException.ThrowIfLessThan(KeepAliveTimeout, ShortestTimeout);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinBodyRateGracePeriod, ShortestTimeout);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MinBodyBytesPerSecond);
    }

    /// <param name="maxBodyBytes">The largest body any endpoint takes (the value limit for nodes and the gateway).</param>
    public void Apply(KestrelServerLimits limits, long maxBodyBytes)
    {
        ArgumentNullException.ThrowIfNull(limits);
        limits.MaxConcurrentConnections = MaxConnections;
        limits.MaxConcurrentUpgradedConnections = MaxConnections;
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalBytes;
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        limits.MaxRequestLineSize = MaxRequestLineBytes;
        limits.RequestHeadersTimeout = RequestHeadersTimeout;
        limits.KeepAliveTimeout = KeepAliveTimeout;
        limits.MinRequestBodyDataRate = new MinDataRate(MinBodyBytesPerSecond, MinBodyRateGracePeriod);
        // One byte over the value limit: the API's own check answers 413 with a problem body first;
        // this is the safety net for any other endpoint.
        limits.MaxRequestBodySize = maxBodyBytes + 1L;
        limits.Http2.MaxStreamsPerConnection = Http2MaxStreamsPerConnection;
        limits.Http2.MaxFrameSize = Http2MaxFrameBytes;
        limits.Http2.HeaderTableSize = Http2HeaderTableBytes;
        limits.Http2.MaxRequestHeaderFieldSize = Http2MaxHeaderFieldBytes;
    }
}
