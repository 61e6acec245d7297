using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using RingKv.Node.Hosting;
using RingKv.Storage;

namespace RingKv.Node.Tests.Support;

/// <summary>A real node on a real Kestrel socket (port 0), in this process. Disposing stops it and deletes its data.</summary>
public sealed class NodeServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;

    private NodeServer(WebApplication app, string dataDirectory, Uri baseAddress, NodeOptions options)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        BaseAddress = baseAddress;
        Options = options;
        Client = new HttpClient { BaseAddress = baseAddress };
    }

    public Uri BaseAddress { get; }

    public NodeOptions Options { get; }

    public HttpClient Client { get; }

    /// <summary>The node's RESP listener; null when the test turned it off.</summary>
    public System.Net.IPEndPoint? RespEndPoint { get; private init; }

    public static async Task<NodeServer> StartAsync(string engine = "memory", Action<NodeOptions>? configure = null)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "ringkv-test-" + Guid.NewGuid().ToString("N"));
        var options = new NodeOptions { Port = 0, Engine = engine, DataDirectory = dataDirectory, Fsync = FsyncMode.Batch };
        configure?.Invoke(options);
        var app = NodeHost.Build(options);
        await app.StartAsync();
        // The client port's URL: the node also listens for RESP (RespEndPoint).
        var endpoints = app.Services.GetRequiredService<RingKv.Node.Membership.NodeEndpoints>();
        return new NodeServer(app, dataDirectory, new Uri(endpoints.ClientUrl), options) { RespEndPoint = endpoints.Resp?.IPEndPoint };
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
