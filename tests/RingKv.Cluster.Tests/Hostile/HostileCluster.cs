using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RingKv.Cluster.Tests.Harness;
using RingKv.Node.Security;
using RingKv.Testing;

namespace RingKv.Cluster.Tests.Hostile;

/// <summary>
/// One cluster (coordinator and 3 nodes, with client tokens and a cluster secret, and short
/// timeouts so slow clients are cut off within seconds) shared by every hostile-input test, and
/// the checks each of them ends with: every process alive, no data changed, and a normal write and
/// read served within a second.
/// </summary>
public sealed class HostileCluster : IAsyncLifetime
{
    /// <summary>Seconds: the shortest Kestrel honours (its timeouts are checked once a second).</summary>
    public const int HeadersTimeoutSeconds = 2;
    public const int BodyRateGraceSeconds = 2;
    public const int MaxConnections = 64;
    public const string SentinelKey = "hostile/sentinel";
    public const string SentinelValue = "the sentinel keeps this value";

    private readonly TempDirectory _directory = new("hostile");
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Lock _keysGate = new();

    public TestCluster Cluster { get; private set; } = null!;

    public string AdminToken { get; private set; } = null!;

    public string WriterToken { get; private set; } = null!;

    public string ReaderToken { get; private set; } = null!;

    public string Secret { get; private set; } = null!;

    /// <summary>The first node's client URL.</summary>
    public Uri NodeUrl => Cluster.Nodes[0].Url;

    /// <summary>The coordinator: gateway, cluster API and control plane.</summary>
    public Uri CoordinatorUrl => Cluster.CoordinatorUrl;

    public Uri InternodeUrl { get; private set; } = null!;

    public HttpClient Http => Cluster.Http;

    public IEnumerable<RingKvProcess> Processes => Cluster.Nodes.Select(n => n.Process!).Append(Cluster.Coordinator);

    public async Task InitializeAsync()
    {
        var (admin, adminRecord) = TokenStore.Create("hostile-admin", Role.Admin);
        var (writer, writerRecord) = TokenStore.Create("hostile-writer", Role.Write);
        var (reader, readerRecord) = TokenStore.Create("hostile-reader", Role.Read);
        (AdminToken, WriterToken, ReaderToken) = (admin, writer, reader);
        var authFile = _directory.Combine("auth.json");
        TokenStore.Write(authFile, [adminRecord, writerRecord, readerRecord]);
        Cluster = await TestCluster.StartSecuredAsync(3, authFile, admin,
            "--request-headers-timeout", HeadersTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            "--min-body-rate-grace", BodyRateGraceSeconds.ToString(CultureInfo.InvariantCulture),
            "--max-connections", MaxConnections.ToString(CultureInfo.InvariantCulture));
        try
        {
            Secret = (await File.ReadAllTextAsync(Cluster.SecretFile!)).Trim();
            var status = await Cluster.ClusterAsync(CoordinatorUrl);
            InternodeUrl = new Uri(status.GetProperty("nodes").EnumerateArray().First(n => n.GetProperty("id").GetString() == Cluster.Nodes[0].Id).GetProperty("internodeUrl").GetString()!);
            using var put = await Http.PutAsync(new Uri(CoordinatorUrl, "/v1/kv/" + SentinelKey), new StringContent(SentinelValue));
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
            Track(SentinelKey);
            // Warm up every path the checks take (JIT, connection pools, gRPC channels between nodes), so
            // the one-second bound measures the cluster, not the first call of a fresh process.
            for (var round = 0; round < 5; round++)
            {
                foreach (var url in Cluster.Nodes.Select(n => n.Url).Append(CoordinatorUrl))
                {
                    var key = "hostile/warm-up/" + round + "/" + url.Port;
                    Track(key);
                    using var warm = await Http.PutAsync(new Uri(url, "/v1/kv/" + key), new StringContent("warm"));
                    Assert.Equal(HttpStatusCode.NoContent, warm.StatusCode);
                    Assert.Equal((HttpStatusCode.OK, "warm"), await GetAsync(url, key));
                }
            }
        }
        catch
        {
            // Stop the processes now: a fixture whose start failed may never be disposed.
            var started = Cluster;
            Cluster = null!;
            await started.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
        _directory.Dispose();
    }

    /// <summary>A key this suite wrote on purpose: the listing must show exactly these.</summary>
    public void Track(string key)
    {
        lock (_keysGate)
        {
            _keys.Add(key);
        }
    }

    /// <summary>The checks after every hostile request: alive, unchanged, and serving within a second.</summary>
    public async Task AssertUnharmedAsync(string what, params string[] absentKeys)
    {
        foreach (var process in Processes)
        {
            Assert.False(process.HasExited, $"after {what}: a process died. {process.Describe()}");
        }
        var sentinel = await GetAsync(CoordinatorUrl, SentinelKey);
        Assert.True(sentinel == (HttpStatusCode.OK, SentinelValue), $"after {what}: the sentinel reads {sentinel}");
        foreach (var key in absentKeys)
        {
            var seen = await GetAsync(CoordinatorUrl, key);
            Assert.True(seen.Status == HttpStatusCode.NotFound, $"after {what}: {key} was written by a rejected request: {seen}");
        }
        await AssertServesPromptlyAsync(what);
    }

    /// <summary>A normal write and read, through a node and through the gateway, each within a second.</summary>
    public async Task AssertServesPromptlyAsync(string what)
    {
        foreach (var url in new[] { NodeUrl, CoordinatorUrl })
        {
            var key = "hostile/after/" + Guid.NewGuid().ToString("N");
            Track(key);
            var clock = Stopwatch.StartNew();
            using (var put = await Http.PutAsync(new Uri(url, "/v1/kv/" + key), new StringContent("fine")))
            {
                Assert.True(put.StatusCode == HttpStatusCode.NoContent, $"after {what}: a normal write to {url} got {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
            }
            var read = await GetAsync(url, key);
            clock.Stop();
            Assert.True(read == (HttpStatusCode.OK, "fine"), $"after {what}: a normal read from {url} got {read}");
            // A wedged server (a lock held, a thread stuck on the hostile request) takes the client's
            // whole timeout; a healthy one on a busy 2-core machine sometimes just over a second.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"after {what}: a normal write and read at {url} took {clock.Elapsed.TotalMilliseconds:0} ms");
        }
    }

    /// <summary>Every key the cluster lists is one this suite wrote on purpose.</summary>
    public async Task AssertOnlyTrackedKeysAsync(string what)
    {
        var listed = new List<string>();
        string? cursor = null;
        for (var page = 0; page < 100; page++)
        {
            var url = "/v1/kv?limit=1000" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var json = await Http.GetFromJsonAsync<JsonElement>(new Uri(CoordinatorUrl, url));
            listed.AddRange(json.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!));
            cursor = json.GetProperty("cursor").GetString();
            if (cursor is null)
            {
                break;
            }
        }
        string[] unexpected;
        lock (_keysGate)
        {
            unexpected = listed.Where(k => !_keys.Contains(k)).ToArray();
        }
        Assert.True(unexpected.Length == 0, $"after {what}: keys nobody wrote on purpose: {string.Join(", ", unexpected)}");
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(Uri url, string key)
    {
        using var response = await Http.GetAsync(new Uri(url, "/v1/kv/" + key));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Resident memory of a process in bytes (Linux /proc).</summary>
    public static long ResidentBytes(RingKvProcess process)
    {
        ArgumentNullException.ThrowIfNull(process);
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }
        throw new InvalidOperationException($"No VmRSS for pid {process.Id}.");
    }

    /// <summary>A request head as a hostile client writes it: exactly these bytes, the admin token unless told otherwise.</summary>
    public string Head(string method, string target, string? token = "", string headers = "", int? contentLength = null, bool close = true)
    {
        var head = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{method} {target} HTTP/1.1\r\nHost: hostile\r\n");
        if (close)
        {
            head.Append("Connection: close\r\n");
        }
        token = token == "" ? AdminToken : token;
        if (token is not null)
        {
            head.Append("Authorization: Bearer ").Append(token).Append("\r\n");
        }
        if (contentLength is { } length)
        {
            head.Append(CultureInfo.InvariantCulture, $"Content-Length: {length}\r\n");
        }
        head.Append(headers).Append("\r\n");
        return head.ToString();
    }

    public AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}

[CollectionDefinition(Name)]
public sealed class HostileCollection : ICollectionFixture<HostileCluster>
{
    public const string Name = "hostile";
}
