using Microsoft.AspNetCore.Builder;

namespace RingKv.Node.Hosting;

/// <summary>Builds a storage node: Kestrel, the v1 API, the engine. The ringkv executable runs it.</summary>
public static class NodeHost
{
    /// <summary>Builds the node's web application. Run it with <c>RunAsync</c>; its URLs are known once started.</summary>
    public static WebApplication Build(NodeOptions options, string[]? args = null)
    {
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        var app = builder.Build();
        return app;
    }
}
