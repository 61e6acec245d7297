using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using RingKv.Testing;
using RingKv.Testing.Network;

namespace RingKv.Cluster.Tests.Partitions;

/// <summary>
/// A coordinator and N nodes, each process in a network namespace of its own with its own address
/// (<see cref="VirtualNetwork"/>), so a test can cut and heal the network between any of them. Nodes
/// listen beyond loopback, so protected mode applies: every process gets an auth file and the
/// cluster secret, and every request carries an admin token. Disposing stops every process by id,
/// then removes the namespaces, links and bridges, also when the test failed.
/// </summary>
public sealed class NamespacedCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);

    /// <summary>Every node after the first joins in stages (range by range), one at a time: on a busy 2-core machine that takes a while.</summary>
    private static readonly TimeSpan JoinsDeadline = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(10);
    private readonly TempDirectory _directory = new("partitions");
    private readonly List<RingKvProcess> _processes = [];
    private readonly Dictionary<NetworkHost, HttpClient> _admin = [];
    private string _token = "";
    private string _authFile = "";
    private string _secretFile = "";
    private readonly System.Diagnostics.Stopwatch _coordinatorClock = new();

    private NamespacedCluster(VirtualNetwork network) => Network = network;

    public VirtualNetwork Network { get; }

    public NetworkHost CoordinatorHost { get; private set; } = null!;

    public RingKvProcess Coordinator { get; private set; } = null!;

    public Uri CoordinatorUrl { get; private set; } = null!;

    public List<NamespacedNode> Nodes { get; } = [];

    /// <summary>How long ago the coordinator process was started (at least as long as it has been running).</summary>
    public TimeSpan CoordinatorUptime => _coordinatorClock.Elapsed;

    /// <summary>The admin token every client here sends.</summary>
    public string Token => _token;

    public static async Task<NamespacedCluster> StartAsync(int nodes, IReadOnlyList<string> coordinatorArgs, IReadOnlyList<string> nodeArgs)
    {
        var cluster = new NamespacedCluster(VirtualNetwork.Create());
        try
        {
            await cluster.LaunchAsync(nodes, coordinatorArgs, nodeArgs);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task LaunchAsync(int nodes, IReadOnlyList<string> coordinatorArgs, IReadOnlyList<string> nodeArgs)
    {
        _authFile = _directory.Combine("auth.json");
        var created = await RingKvProcess.RunAsync(["token", "create", "--role", "admin", "--name", "partition-tests", "--auth-file", _authFile], StartDeadline);
        Assert.True(created.ExitCode == 0, created.Description);
        _token = created.StandardOutput.Trim();
        _secretFile = _directory.Combine("cluster.secret");
        await File.WriteAllTextAsync(_secretFile, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_secretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        CoordinatorHost = Network.AddHost("coordinator");
        Coordinator = Start(CoordinatorHost,
            ["coordinator", "--bind", CoordinatorHost.Address.ToString(), "--port", "0", "--resp-port", "0", "--data-dir", _directory.Combine("coordinator"),
            "--replicas", "3", "--auth-file", _authFile, "--cluster-secret-file", _secretFile, .. coordinatorArgs]);
        _coordinatorClock.Restart();
        CoordinatorUrl = await Coordinator.WaitForUrlAsync(StartDeadline);
        // One node after the other, each ready before the next asks to join: from the fourth on,
        // a join is staged (its ranges are transferred first), and joins queue one at a time.
        for (var i = 1; i <= nodes; i++)
        {
            var id = "n" + i.ToString(CultureInfo.InvariantCulture);
            var host = Network.AddHost(id);
            var node = new NamespacedNode(id, host, Admin(host));
            Nodes.Add(node);
            node.Process = Start(host,
                ["node", "--join", CoordinatorUrl.ToString(), "--node-name", id, "--bind", host.Address.ToString(), "--port", "0", "--internode-port", "0",
                "--data-dir", _directory.Combine(id), "--engine", "memory", "--auth-file", _authFile, "--cluster-secret-file", _secretFile, .. nodeArgs]);
            node.Url = await node.Process.WaitForUrlAsync(StartDeadline);
            // Bound to its namespace's address, a node advertises that address, not loopback.
            Assert.Equal(host.Address.ToString(), node.Url.Host);
            await Eventually.WaitUntilAsync(async () => (await node.Http.GetAsync(new Uri(node.Url, "/health/ready"))).IsSuccessStatusCode,
                StartDeadline, () => $"node {id} at {node.Url} not ready. {node.Process.Describe()}");
        }
        await WaitUntilHealthyAsync(JoinsDeadline);
        // Peers must dial each other at their own addresses: a loopback URL in the map would reach
        // the caller's own namespace, and a partition would cut nothing.
        foreach (var member in (await ClusterAsync()).GetProperty("nodes").EnumerateArray())
        {
            var address = Node(member.GetProperty("id").GetString()!).Host.Address.ToString();
            Assert.Equal(address, new Uri(member.GetProperty("clientUrl").GetString()!).Host);
            Assert.Equal(address, new Uri(member.GetProperty("internodeUrl").GetString()!).Host);
        }
    }

    private RingKvProcess Start(NetworkHost host, string[] args)
    {
        var process = RingKvProcess.Start(args, new RingKvProcessOptions { NetworkNamespace = host.Namespace });
        _processes.Add(process);
        return process;
    }

    /// <summary>An HTTP client with the admin token whose connections start inside the host's namespace.</summary>
    public HttpClient Admin(NetworkHost host)
    {
        if (!_admin.TryGetValue(host, out var http))
        {
            http = CreateClient(host, AdminTimeout);
            _admin[host] = http;
        }
        return http;
    }

    /// <summary>A new client in the host's namespace, with the token; the caller disposes it.</summary>
    public HttpClient CreateClient(NetworkHost host, TimeSpan timeout)
    {
        var http = host.CreateHttpClient(timeout);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _token);
        return http;
    }

    public NamespacedNode Node(string id) => Nodes.Single(n => n.Id == id);

    public void Pause(NamespacedNode node)
    {
        node.Process.Pause();
        node.Paused = true;
    }

    public void Resume(NamespacedNode node)
    {
        node.Process.Resume();
        node.Paused = false;
    }

    /// <summary>The coordinator's status document.</summary>
    public async Task<JsonElement> ClusterAsync()
    {
        using var response = await Admin(CoordinatorHost).GetAsync(new Uri(CoordinatorUrl, "/v1/cluster"));
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>
    /// Waits until the coordinator lists every node as up with no hint pending anywhere, and every
    /// node holds the coordinator's epoch: the state each scenario starts from and returns to.
    /// </summary>
    /// <param name="progress">Told each time what the cluster reports changes, for the record of how healing went.</param>
    public async Task WaitUntilHealthyAsync(TimeSpan deadline, Action<string>? progress = null)
    {
        var seen = "";
        var reported = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            if (progress is not null && seen != reported)
            {
                progress(seen);
                reported = seen;
            }
            var cluster = await ClusterAsync();
            var epoch = cluster.GetProperty("epoch").GetInt64();
            var members = cluster.GetProperty("nodes").EnumerateArray().ToList();
            seen = $"coordinator at epoch {epoch}: " + string.Join(", ", members.Select(m =>
                $"{m.GetProperty("id").GetString()} {m.GetProperty("state").GetString()} ({m.GetProperty("pendingHints").GetInt64()} hints)"));
            if (members.Count != Nodes.Count || members.Any(m => m.GetProperty("state").GetString() != "up" || m.GetProperty("pendingHints").GetInt64() != 0))
            {
                return false;
            }
            foreach (var node in Nodes)
            {
                var located = await node.Http.GetFromJsonAsync<JsonElement>(new Uri(node.Url, "/v1/cluster/locate/probe"));
                var nodeEpoch = located.GetProperty("epoch").GetInt64();
                if (nodeEpoch != epoch)
                {
                    seen += $"; {node.Id} at epoch {nodeEpoch}";
                    return false;
                }
            }
            return true;
        }, deadline, () => "cluster not healthy: " + seen);
    }

    /// <summary>The ids of the key's preference list, in order, from the coordinator's map.</summary>
    public async Task<List<string>> LocateAsync(string key)
    {
        var located = await Admin(CoordinatorHost).GetFromJsonAsync<JsonElement>(new Uri(CoordinatorUrl, "/v1/cluster/locate/" + Uri.EscapeDataString(key)));
        return [.. located.GetProperty("replicas").EnumerateArray().Select(r => r.GetProperty("id").GetString()!)];
    }

    /// <summary>The node's own copy of the key (<c>/v1/local</c>), or null when it holds nothing.</summary>
    public static async Task<LocalCopy?> LocalCopyAsync(NamespacedNode node, string key)
    {
        using var response = await node.Http.GetAsync(new Uri(node.Url, "/v1/local/kv/" + Uri.EscapeDataString(key)));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        var local = await response.Content.ReadFromJsonAsync<JsonElement>();
        var deleted = local.GetProperty("deleted").GetBoolean();
        return new LocalCopy(local.GetProperty("version").GetString()!, deleted,
            deleted ? null : System.Text.Encoding.UTF8.GetString(local.GetProperty("value").GetBytesFromBase64()));
    }

    public async ValueTask DisposeAsync()
    {
        // A stopped process is killed as it is (SIGKILL works on it); every one by its id.
        foreach (var process in _processes)
        {
            await process.DisposeAsync();
        }
        foreach (var http in _admin.Values)
        {
            http.Dispose();
        }
        Network.Dispose();
        _directory.Dispose();
    }
}

public sealed class NamespacedNode(string id, NetworkHost host, HttpClient http)
{
    public string Id { get; } = id;

    public NetworkHost Host { get; } = host;

    /// <summary>Admin client from inside this node's namespace.</summary>
    public HttpClient Http { get; } = http;

    public RingKvProcess Process { get; set; } = null!;

    public Uri Url { get; set; } = null!;

    public bool Paused { get; set; }

    public override string ToString() => $"{Id} ({Url})";
}

/// <summary>One replica's copy of a key: its version, whether it is a tombstone, and its value.</summary>
public sealed record LocalCopy(string Version, bool Deleted, string? Value)
{
    /// <summary>What a client would read from it: the value, or null for a tombstone.</summary>
    public string? State => Deleted ? null : Value;
}
