using RingKv.Core.Versioning;
using RingKv.Node.Data;

namespace RingKv.Node.Hosting;

/// <summary>What a request handler needs from its node, resolved once per request from DI.</summary>
public sealed class NodeContext(NodeOptions options, IKeyValueService service, HybridLogicalClock clock, TimeProvider time)
{
    public NodeOptions Options { get; } = options;

    public IKeyValueService Service { get; } = service;

    public HybridLogicalClock Clock { get; } = clock;

    public long NowMs() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
