using System.Net.Sockets;
using System.Text;
using RingKv.Testing;

namespace RingKv.Cluster.Tests.Hostile;

/// <summary>
/// Clients that hold a server's resources without sending a request: a flood of idle connections,
/// slow headers, slow bodies. The cluster runs with short limits (<see cref="HostileCluster"/>) so
/// each is cut off within seconds; these tests are slow by design, by those few seconds.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class SlowClientTests(HostileCluster cluster)
{
    /// <summary>Connections over the limit, per listener.</summary>
    private const int Excess = 32;

    /// <summary>Kestrel checks its timeouts once a second; a cut-off may come that much later, plus scheduling on a busy machine.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(3);

    [Theory]
    [InlineData(Listener.Node)]
    [InlineData(Listener.Gateway)]
    [InlineData(Listener.Internode)]
    public async Task IdleConnectionFloodIsCappedAndMemoryStaysBounded(Listener on)
    {
        var url = on switch
        {
            Listener.Node => cluster.NodeUrl,
            Listener.Internode => cluster.InternodeUrl,
            _ => cluster.CoordinatorUrl,
        };
        var before = cluster.Processes.ToDictionary(p => p.Id, HostileCluster.ResidentBytes);
        var sockets = new List<Socket>();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            for (var i = 0; i < HostileCluster.MaxConnections + Excess; i++)
            {
                sockets.Add(await RawHttp.ConnectAsync(url, cts.Token));
            }
            // Connections over the limit are closed by the server at once; the others stay open, idle.
            var closed = 0;
            await Eventually.WaitUntilAsync(() =>
            {
                closed = sockets.Count(IsClosedByPeer);
                return closed >= Excess;
            }, TimeSpan.FromSeconds(10), () => $"{on}: only {closed} of {sockets.Count} connections were refused; the limit is {HostileCluster.MaxConnections}");
            Assert.True(sockets.Count - closed <= HostileCluster.MaxConnections, $"{on}: {sockets.Count - closed} connections accepted over a limit of {HostileCluster.MaxConnections}");
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
        foreach (var process in cluster.Processes)
        {
            var grown = HostileCluster.ResidentBytes(process) - before[process.Id];
            Assert.True(grown < 64L * 1024 * 1024, $"{on}: pid {process.Id} grew by {grown / (1024 * 1024)} MiB during an idle-connection flood");
        }
        // Freed slots are usable again at once.
        await Eventually.WaitUntilAsync(async () =>
        {
            await cluster.AssertServesPromptlyAsync($"{on}: idle-connection flood");
            return true;
        }, TimeSpan.FromSeconds(5), () => $"{on}: the cluster did not serve normally after an idle-connection flood");
        await cluster.AssertUnharmedAsync($"{on}: idle-connection flood");
    }

    [Theory]
    [InlineData(Listener.Node)]
    [InlineData(Listener.Gateway)]
    [InlineData(Listener.ControlPlane)]
    public async Task SlowHeaderClientIsCutOffWithinTheHeadersTimeout(Listener on)
    {
        var url = on == Listener.Node ? cluster.NodeUrl : cluster.CoordinatorUrl;
        var limit = TimeSpan.FromSeconds(HostileCluster.HeadersTimeoutSeconds);
        var target = on == Listener.ControlPlane ? "/internal/v1/map" : "/v1/kv/" + HostileCluster.SentinelKey;
        var exchange = await RawHttp.TrickleAsync(url, Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: slow\r\n"),
            Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 100).Select(i => $"X-Slow-{i}: {i}\r\n"))), TimeSpan.FromMilliseconds(200), limit + Slack + Slack);
        Assert.True(exchange.ClosedByServer, $"{on}: a slow-header client was still connected after {exchange.Elapsed.TotalSeconds:0.0} s");
        Assert.True(exchange.Elapsed < limit + Slack, $"{on}: a slow-header client was cut off only after {exchange.Elapsed.TotalSeconds:0.0} s (limit {limit.TotalSeconds} s)");
        Assert.True(exchange.Statuses.All(s => s == 408), $"{on}: a slow-header client got {string.Join(", ", exchange.Statuses)}: {exchange.Text}");
        await cluster.AssertUnharmedAsync($"{on}: slow headers");
    }

    [Theory]
    [InlineData(Listener.Node)]
    [InlineData(Listener.Gateway)]
    [InlineData(Listener.ControlPlane)]
    public async Task SlowBodyClientGets408WithinTheGracePeriod(Listener on)
    {
        var url = on == Listener.Node ? cluster.NodeUrl : cluster.CoordinatorUrl;
        var key = $"hostile/slow-body-{on}".ToLowerInvariant();
        var grace = TimeSpan.FromSeconds(HostileCluster.BodyRateGraceSeconds);
        var head = on == Listener.ControlPlane
            ? $"POST /internal/v1/heartbeat HTTP/1.1\r\nHost: slow\r\nX-RingKV-Cluster-Secret: {cluster.Secret}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n"
            : cluster.Head("PUT", "/v1/kv/" + key, contentLength: 10_000);
        // Valid JSON for the control plane, so it is the pace that gets the body refused, not its content.
        var body = on == Listener.ControlPlane ? Encoding.ASCII.GetBytes("{\"id\":\"n1\",\"pad\":\"" + new string('p', 10_000 - 20) + "\"}") : new byte[10_000];
        Assert.Equal(10_000, body.Length);
        var exchange = await RawHttp.TrickleAsync(url, Encoding.ASCII.GetBytes(head), body, TimeSpan.FromMilliseconds(200), grace + Slack + Slack);
        Assert.True(exchange.ClosedByServer, $"{on}: a slow-body client was still connected after {exchange.Elapsed.TotalSeconds:0.0} s");
        Assert.True(exchange.Elapsed < grace + Slack, $"{on}: a slow-body client was cut off only after {exchange.Elapsed.TotalSeconds:0.0} s (grace {grace.TotalSeconds} s)");
        Assert.True(exchange.Statuses.SequenceEqual([408]), $"{on}: a slow-body client got [{string.Join(", ", exchange.Statuses)}]: {exchange.Text}");
        await cluster.AssertUnharmedAsync($"{on}: slow body", key);
    }

    private static bool IsClosedByPeer(Socket socket)
    {
        try
        {
            // Readable with nothing to read: the peer closed (or reset) the connection.
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
