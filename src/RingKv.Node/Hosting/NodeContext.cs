using RingKv.Core.Versioning;
using RingKv.Node.Data;
using RingKv.Node.Observability;

namespace RingKv.Node.Hosting;

/// <summary>What a request handler needs from its node, resolved once per request from DI.</summary>
public sealed class NodeContext(NodeOptions options, IKeyValueService service, HybridLogicalClock clock, TimeProvider time, NodeMetrics metrics)
{
    public NodeOptions Options { get; } = options;

    public IKeyValueService Service { get; } = service;

    public HybridLogicalClock Clock { get; } = clock;

    public NodeMetrics Metrics { get; } = metrics;

    public long NowMs() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
