using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RingKv.Client;
using RingKv.Node.Security.Tls;
using RingKv.Testing;

namespace RingKv.Cluster.Tests.Harness;

/// <summary>
/// A coordinator and N storage nodes as real processes on free loopback ports, each with its own
/// data directory. Any of them can be SIGKILLed, SIGSTOPped, SIGCONTed and restarted on the same
/// data. Disposing stops every process it started, by id, also when the test failed.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _directory = new("cluster");
    private readonly string _engine;
    private readonly int _replicas;
    private readonly List<RingKvProcess> _retired = [];

    private readonly string[] _coordinatorArgs;

    private TestCluster(string engine, int replicas, string[] coordinatorArgs)
    {
        _engine = engine;
        _replicas = replicas;
        _coordinatorArgs = coordinatorArgs;
        Http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; private set; }

    public RingKvProcess Coordinator { get; private set; } = null!;

    public Uri CoordinatorUrl { get; private set; } = null!;

    public NodeSet Nodes { get; } = new();

    /// <param name="coordinatorArgs">Extra coordinator flags, e.g. a short --eviction-grace for failure tests.</param>
    public static Task<TestCluster> StartAsync(int nodes, int replicas = 3, string engine = "memory", params string[] coordinatorArgs) =>
        StartAsync(new TestCluster(engine, replicas, coordinatorArgs), nodes, withSecret: false);

    /// <summary>A cluster whose nodes get extra flags (e.g. to keep anti-entropy out of a read-repair test).</summary>
    public static Task<TestCluster> StartWithNodeArgsAsync(int nodes, string engine, params string[] nodeArgs) =>
        StartAsync(new TestCluster(engine, 3, []) { _nodeArgs = nodeArgs }, nodes, withSecret: false);

    private string[] _nodeArgs = [];

    /// <summary>
    /// A cluster with extra coordinator flags and, per node id, extra node flags (e.g. a different
    /// --clock-offset for each node, or short tombstone settings).
    /// </summary>
    public static Task<TestCluster> StartWithArgsAsync(int nodes, string engine, string[] coordinatorArgs, Func<string, string[]> nodeArgs) =>
        StartAsync(new TestCluster(engine, 3, coordinatorArgs) { _nodeArgsFor = nodeArgs }, nodes, withSecret: false);

    private Func<string, string[]>? _nodeArgsFor;

    /// <summary>
    /// A cluster whose nodes get extra flags and are started with their own process options (e.g. a
    /// data directory on a small private tmpfs, <see cref="PrivateTmpfs"/>).
    /// </summary>
    public static Task<TestCluster> StartWithProcessOptionsAsync(int nodes, string engine, Func<string, string[]> nodeArgs, Func<TestNode, RingKvProcessOptions> processOptions) =>
        StartAsync(new TestCluster(engine, 3, []) { _nodeArgsFor = nodeArgs, _processOptionsFor = processOptions }, nodes, withSecret: false);

    private Func<TestNode, RingKvProcessOptions>? _processOptionsFor;

    /// <summary>A cluster whose coordinator and nodes share a cluster secret file.</summary>
    public static Task<TestCluster> StartWithSecretAsync(int nodes) => StartAsync(new TestCluster("memory", 3, []), nodes, withSecret: true);

    /// <summary>
    /// A cluster with a cluster secret and TLS everywhere: an authority made as <c>up --tls</c>
    /// makes it, one certificate for the coordinator and the nodes, and <see cref="Http"/> trusting
    /// that authority only.
    /// </summary>
    public static Task<TestCluster> StartWithTlsAsync(int nodes)
    {
        var cluster = new TestCluster("memory", 3, []);
        cluster.Tls = LocalAuthority.Ensure(cluster._directory.Combine("coordinator"), System.Net.IPAddress.Loopback, TimeProvider.System);
        cluster.Http.Dispose();
        cluster.Http = new HttpClient(TrustedAuthority.CreateHandler(cluster.Tls.AuthorityFile)) { Timeout = TimeSpan.FromSeconds(30) };
        return StartAsync(cluster, nodes, withSecret: true);
    }

    /// <summary>The certificate files of a TLS cluster; null without TLS.</summary>
    public TlsFiles? Tls { get; private set; }

    /// <summary>
    /// A cluster with a cluster secret and client tokens (<paramref name="authFile"/>), where every
    /// server also gets <paramref name="serverArgs"/> (e.g. short limits). The harness's own requests
    /// carry <paramref name="adminToken"/>.
    /// </summary>
    public static Task<TestCluster> StartSecuredAsync(int nodes, string authFile, string adminToken, params string[] serverArgs)
    {
        string[] args = [.. serverArgs, "--auth-file", authFile];
        var cluster = new TestCluster("memory", 3, args) { _nodeArgs = args };
        cluster.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        return StartAsync(cluster, nodes, withSecret: true);
    }

    private static async Task<TestCluster> StartAsync(TestCluster cluster, int nodes, bool withSecret)
    {
        try
        {
            if (withSecret)
            {
                cluster.SecretFile = cluster._directory.Combine("cluster.secret");
                await File.WriteAllTextAsync(cluster.SecretFile, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
            }
            await cluster.StartCoordinatorAsync(port: 0);
            for (var i = 1; i <= nodes; i++)
            {
                var node = new TestNode("n" + i, cluster._directory.Combine("n" + i));
                cluster.Nodes.Add(node);
                await cluster.StartNodeAsync(node);
            }
            await cluster.WaitUntilConvergedAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private string[] MemberArguments =>
    [
        .. SecretFile is null ? [] : new[] { "--cluster-secret-file", SecretFile },
        .. Tls is null ? [] : new[] { "--tls-cert", Tls.CertificateFile, "--tls-key", Tls.KeyFile, "--tls-ca", Tls.AuthorityFile },
    ];

    public TestNode Node(string id) => Nodes.Single(n => n.Id == id);

    /// <summary>Nodes a client may talk to: started, announced, not paused, not being drained.</summary>
    public IEnumerable<TestNode> Running => Nodes.Where(n => n.Process is { HasExited: false } && n.Url is not null && !n.Paused && !n.Draining);

    public async Task StartCoordinatorAsync(int port)
    {
        Coordinator = RingKvProcess.Start(
            ["coordinator", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--resp-port", "0",
            "--data-dir", _directory.Combine("coordinator"), "--replicas", _replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), .. _coordinatorArgs, .. MemberArguments],
            new RingKvProcessOptions());
        CoordinatorUrl = await Coordinator.WaitForUrlAsync(StartDeadline);
        CoordinatorRespUrl = Coordinator.AnnouncedRespUrl;
    }

    /// <summary>The coordinator's RESP gateway (each connection passed through to an up node).</summary>
    public Uri? CoordinatorRespUrl { get; private set; }

    /// <summary>SIGKILLs the coordinator and starts it again on the same port and data directory.</summary>
    public async Task KillCoordinatorAsync()
    {
        Coordinator.Kill();
        await Coordinator.WaitForExitAsync(TimeSpan.FromSeconds(10));
        _retired.Add(Coordinator);
    }

    public Task RestartCoordinatorAsync() => StartCoordinatorAsync(CoordinatorUrl.Port);

    /// <summary>A cluster secret file the coordinator and every node started here use; null for none.</summary>
    public string? SecretFile { get; private set; }

    /// <summary>Starts a node process that asks to join with the given arguments, without waiting for it to be ready.</summary>
    public RingKvProcess StartStranger(string dataDirectory, params string[] extra) =>
        Track(RingKvProcess.Start(["node", "--join", CoordinatorUrl.ToString(), "--port", "0", "--internode-port", "0", "--data-dir", dataDirectory, "--engine", _engine, .. extra], new RingKvProcessOptions()));

    private RingKvProcess Track(RingKvProcess process)
    {
        _retired.Add(process);
        return process;
    }

    /// <summary>Starts one more node (its data in this cluster's directory) that asks to join.</summary>
    public async Task<TestNode> AddNodeAsync(string id)
    {
        var node = new TestNode(id, _directory.Combine(id));
        Nodes.Add(node);
        await StartNodeAsync(node);
        return node;
    }

    public async Task StartNodeAsync(TestNode node)
    {
        if (node.Process is not null)
        {
            _retired.Add(node.Process);
        }
        node.Process = RingKvProcess.Start(
            ["node", "--join", CoordinatorUrl.ToString(), "--node-name", node.Id, "--port", "0", "--internode-port", "0",
            "--data-dir", node.DataDirectory, "--engine", _engine, .. MemberArguments, .. _nodeArgs, .. _nodeArgsFor?.Invoke(node.Id) ?? []],
            _processOptionsFor?.Invoke(node) ?? new RingKvProcessOptions());
        node.Paused = false;
        node.Url = await node.Process.WaitForUrlAsync(StartDeadline);
        await Eventually.WaitUntilAsync(async () => await IsReadyAsync(node), StartDeadline, () => $"node {node.Id} at {node.Url} not ready. {node.Process.Describe()}");
    }

    public async Task KillAsync(TestNode node)
    {
        node.Process!.Kill();
        await node.Process.WaitForExitAsync(TimeSpan.FromSeconds(10));
    }

    public void Pause(TestNode node)
    {
        node.Process!.Pause();
        node.Paused = true;
    }

    public void Resume(TestNode node)
    {
        node.Process!.Resume();
        node.Paused = false;
    }

    /// <summary>Waits until the coordinator lists every node as up and every running node has the coordinator's epoch.</summary>
    public async Task WaitUntilConvergedAsync()
    {
        string seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            var cluster = await ClusterAsync(CoordinatorUrl);
            var epoch = cluster.GetProperty("epoch").GetInt64();
            var up = cluster.GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("state").GetString() == "up");
            seen = $"coordinator epoch {epoch}, {up} up";
            if (up < Nodes.Count)
            {
                return false;
            }
            foreach (var node in Running)
            {
                using var response = await Http.GetAsync(new Uri(node.Url, "/v1/cluster/locate/probe"));
                if (!response.IsSuccessStatusCode)
                {
                    seen += $"; {node.Id} has no map";
                    return false;
                }
                var nodeEpoch = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("epoch").GetInt64();
                if (nodeEpoch != epoch)
                {
                    seen += $"; {node.Id} at epoch {nodeEpoch}";
                    return false;
                }
            }
            return true;
        }, StartDeadline, () => "cluster did not converge: " + seen);
    }

    /// <summary>The coordinator's view of the members: id to state.</summary>
    public async Task<Dictionary<string, string>> MemberStatesAsync()
    {
        var cluster = await ClusterAsync(CoordinatorUrl);
        return cluster.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetString()!, n => n.GetProperty("state").GetString()!);
    }

    /// <summary>Waits until the coordinator reports no under-replicated range and no active transfer.</summary>
    public async Task WaitUntilFullyReplicatedAsync(TimeSpan deadline)
    {
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            var cluster = await ClusterAsync(CoordinatorUrl);
            var under = cluster.GetProperty("underReplicatedRanges").GetInt32();
            var active = cluster.GetProperty("activeTransfers").GetInt32();
            seen = $"{under} under-replicated ranges, {active} active transfers";
            return under == 0 && active == 0;
        }, deadline, () => "not fully replicated: " + seen);
    }

    public async Task<JsonElement> ClusterAsync(Uri baseUrl)
    {
        using var response = await Http.GetAsync(new Uri(baseUrl, "/v1/cluster"));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The ids of the key's preference list, in order.</summary>
    public async Task<List<string>> LocateAsync(string key)
    {
        var located = await Http.GetFromJsonAsync<JsonElement>(new Uri(CoordinatorUrl, "/v1/cluster/locate/" + Uri.EscapeDataString(key)));
        return located.GetProperty("replicas").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToList();
    }

    /// <summary>This node's own copy of a key (<c>/v1/local</c>), or null.</summary>
    public async Task<JsonElement?> LocalAsync(TestNode node, string key)
    {
        using var response = await Http.GetAsync(new Uri(node.Url, "/v1/local/kv/" + Uri.EscapeDataString(key)));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The value of this node's own copy as UTF-8 text, or null when it has none.</summary>
    public async Task<string?> LocalValueAsync(TestNode node, string key) =>
        await LocalAsync(node, key) is { } local ? System.Text.Encoding.UTF8.GetString(local.GetProperty("value").GetBytesFromBase64()) : null;

    public async Task<HttpStatusCode> PutAsync(Uri node, string key, string value, string query = "")
    {
        using var response = await Http.PutAsync(new Uri(node, "/v1/kv/" + Uri.EscapeDataString(key) + query), new StringContent(value));
        return response.StatusCode;
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(Uri node, string key, string query = "")
    {
        using var response = await Http.GetAsync(new Uri(node, "/v1/kv/" + Uri.EscapeDataString(key) + query));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>The sum of a metric's samples whose labels contain <paramref name="label"/>, from the node's /metrics.</summary>
    public async Task<long> MetricAsync(TestNode node, string name, string label)
    {
        var text = await Http.GetStringAsync(new Uri(node.Url, "/metrics"));
        long sum = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && (line.Length == name.Length || line[name.Length] is '{' or ' ') && line.Contains(label, StringComparison.Ordinal))
            {
                sum += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }
        return sum;
    }

    private async Task<bool> IsReadyAsync(TestNode node)
    {
        try
        {
            using var response = await Http.GetAsync(new Uri(node.Url, "/health/ready"));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Resume paused processes first: a stopped process cannot act on SIGTERM.
        foreach (var node in Nodes.Where(n => n.Paused && n.Process is { HasExited: false }))
        {
            node.Process!.Resume();
        }
        var all = Nodes.Where(n => n.Process is not null).Select(n => n.Process!).Concat(_retired).ToList();
        if (Coordinator is not null)
        {
            all.Add(Coordinator);
        }
        foreach (var process in all.Distinct())
        {
            await process.DisposeAsync();
        }
        Http.Dispose();
        _directory.Dispose();
    }
}

public sealed class TestNode(string id, string dataDirectory)
{
    public string Id { get; } = id;

    public string DataDirectory { get; } = dataDirectory;

    public RingKvProcess? Process { get; set; }

    public Uri Url { get; set; } = null!;

    public bool Paused { get; set; }

    /// <summary>Being decommissioned: clients are moved off it first, as an operator would.</summary>
    public bool Draining { get; set; }

    public override string ToString() => $"{Id} ({Url})";
}
