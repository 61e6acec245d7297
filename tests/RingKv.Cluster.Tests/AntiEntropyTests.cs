using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;
using Xunit.Abstractions;

namespace RingKv.Cluster.Tests;

/// <summary>Anti-entropy: replicas converge after a fault without any client reading the keys.</summary>
public sealed class AntiEntropyTests(ITestOutputHelper output)
{
    // The issue's bound for a small cluster: of the order of a minute.
    private static readonly TimeSpan ConvergenceDeadline = TimeSpan.FromSeconds(60);
    private static readonly ParallelOptions Writers = new() { MaxDegreeOfParallelism = 8 };

    [Fact]
    public async Task ReplicaRestartedWithAnEmptyDiskGetsEveryVersionAndTombstoneBackWithoutAnyRead()
    {
        // A long grace period: the wiped node must come back as the same member, not be evicted and
        // rebuilt by transfers.
        await using var cluster = await TestCluster.StartAsync(3, 3, "rocksdb", "--eviction-grace", "120");
        var (a, c) = (cluster.Nodes[0], cluster.Nodes[2]);
        var live = Enumerable.Range(0, 300).Select(i => $"ae/live/{i}").ToList();
        var deleted = Enumerable.Range(0, 100).Select(i => $"ae/deleted/{i}").ToList();
        var neverWritten = Enumerable.Range(0, 20).Select(i => $"ae/never-written/{i}").ToList();
        // Every write at w=3: all three replicas hold the same versions, and no hint is left behind.
        await Parallel.ForEachAsync(live.Concat(deleted), Writers, async (key, _) =>
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(a.Url, key, "v1-" + key, "?w=3")));
        await Parallel.ForEachAsync(live.Where((_, i) => i % 3 == 0), Writers, async (key, _) =>
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(a.Url, key, "v2-" + key, "?w=3")));
        await Parallel.ForEachAsync(deleted.Concat(neverWritten), Writers, async (key, _) =>
        {
            using var response = await cluster.Http.DeleteAsync(new Uri(a.Url, "/v1/kv/" + Uri.EscapeDataString(key) + "?w=3"));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        });
        var expected = new Dictionary<string, LocalCopy>();
        foreach (var key in live.Concat(deleted).Concat(neverWritten))
        {
            expected[key] = await CopyAsync(cluster, a, key) ?? throw new InvalidOperationException($"{a.Id} has no copy of {key} after a w=3 write.");
        }
        Assert.All(deleted.Concat(neverWritten), key => Assert.True(expected[key].Deleted, $"{key} is not a tombstone on {a.Id}"));

        // C loses its data but keeps its identity: it comes back as the same member, empty, and no
        // hint, transfer or read repair will bring anything to it. Only anti-entropy can.
        var transfersBefore = await TransferIdsAsync(cluster);
        await cluster.KillAsync(c);
        Directory.Delete(Path.Combine(c.DataDirectory, "rocksdb"), recursive: true);
        Assert.True(File.Exists(Path.Combine(c.DataDirectory, "identity.json")), $"{c.Id} lost its identity.json");
        var restarted = Stopwatch.StartNew();
        await cluster.StartNodeAsync(c);
        Assert.Equal(new[] { "n1", "n2", "n3" }, (await cluster.MemberStatesAsync()).Keys.Order());

        var pending = new HashSet<string>(expected.Keys);
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            foreach (var key in pending.ToList())
            {
                var copy = await CopyAsync(cluster, c, key);
                if (copy == expected[key])
                {
                    pending.Remove(key);
                }
                else
                {
                    seen = $"{key}: {a.Id} has {expected[key]}, {c.Id} has {copy?.ToString() ?? "nothing"}";
                }
            }
            return pending.Count == 0;
        }, ConvergenceDeadline, () => $"{pending.Count} of {expected.Count} keys still differ on {c.Id} after its restart; e.g. {seen}");
        var convergedAfter = restarted.Elapsed;
        output.WriteLine($"{c.Id} converged on {expected.Count} keys {convergedAfter.TotalSeconds:0.0} s after its restart began");

        // Converged means identical: same version, same tombstone flag, same bytes, on every replica.
        foreach (var node in cluster.Nodes)
        {
            foreach (var (key, copy) in expected)
            {
                Assert.Equal(copy, await CopyAsync(cluster, node, key));
            }
        }

        // Every node reports its rounds, and together the entries they repaired: at least one per
        // key, since C had none of them.
        var statuses = new Dictionary<string, JsonElement>();
        await Eventually.WaitUntilAsync(async () =>
        {
            foreach (var node in cluster.Nodes)
            {
                statuses[node.Id] = await StatusAsync(cluster, node);
            }
            return statuses.Values.All(s => s.GetProperty("roundsCompleted").GetInt64() >= 1);
        }, ConvergenceDeadline, () => "not every node completed a round: " + string.Join("; ", statuses.Select(s => $"{s.Key}: {s.Value}")));
        foreach (var (id, status) in statuses)
        {
            output.WriteLine($"{id}: {status}");
            Assert.True(status.GetProperty("lastRound").GetProperty("rangesCompared").GetInt32() > 0, $"{id} compared no range: {status}");
        }
        var repaired = statuses.Values.Sum(s => s.GetProperty("totals").GetProperty("entriesRepaired").GetInt64());
        Assert.True(repaired >= expected.Count, $"anti-entropy reports {repaired} entries repaired across nodes, fewer than the {expected.Count} {c.Id} lacked");
        Assert.True(statuses[c.Id].GetProperty("totals").GetProperty("entriesPulled").GetInt64() > 0 ||
            statuses.Where(s => s.Key != c.Id).Sum(s => s.Value.GetProperty("totals").GetProperty("entriesPushed").GetInt64()) > 0,
            "no entry was pulled by or pushed to the wiped node");
        Assert.Equal(transfersBefore, await TransferIdsAsync(cluster));
    }

    [Fact]
    public async Task ReplicasInSyncAreComparedRangeByRangeByExactlyOneNodeAndNothingIsRepaired()
    {
        await using var cluster = await TestCluster.StartAsync(3, 3, "memory");
        var keys = Enumerable.Range(0, 300).Select(i => $"ae/in-sync/{i}").ToList();
        await Parallel.ForEachAsync(keys, Writers, async (key, _) =>
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, key, "v-" + key, "?w=3")));
        var written = DateTimeOffset.UtcNow;

        // A round that started after every replica acknowledged every write must find them identical.
        var rounds = new Dictionary<string, JsonElement>();
        await Eventually.WaitUntilAsync(async () =>
        {
            foreach (var node in cluster.Nodes)
            {
                var status = await StatusAsync(cluster, node);
                if (status.TryGetProperty("lastRound", out var round) && round.GetProperty("startedAt").GetDateTimeOffset() > written)
                {
                    rounds[node.Id] = round;
                }
            }
            return rounds.Count == cluster.Nodes.Count;
        }, ConvergenceDeadline, () => $"only [{string.Join(",", rounds.Keys)}] completed a round after the writes");
        foreach (var (id, round) in rounds)
        {
            output.WriteLine($"{id}: {round}");
            Assert.True(round.GetProperty("rangesCompared").GetInt32() > 0, $"{id} compared no range: {round}");
            Assert.Equal(0, round.GetProperty("rangesOutOfSync").GetInt32());
            Assert.Equal(0, round.GetProperty("entriesRepaired").GetInt64());
        }
        // Each vnode's range is driven by one node only: the drivers' ranges add up to the ring.
        var cluster0 = await cluster.ClusterAsync(cluster.CoordinatorUrl);
        var vnodes = cluster0.GetProperty("nodes").EnumerateArray().Sum(n => n.GetProperty("tokens").GetInt32());
        Assert.Equal(vnodes, rounds.Values.Sum(r => r.GetProperty("rangesDriven").GetInt32()));

        // Per range, its last completed exchange: every range the node drives, each compared.
        var detailed = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.Nodes[0].Url, "/v1/local/anti-entropy?ranges=true"));
        var ranges = detailed.GetProperty("ranges").EnumerateArray().ToList();
        Assert.Equal(detailed.GetProperty("rangesDriven").GetInt32(), ranges.Count);
        Assert.All(ranges, r => Assert.True(r.GetProperty("lastExchangeAt").GetDateTimeOffset() > written, $"range not compared since the writes: {r}"));

        var metrics = await cluster.Http.GetStringAsync(new Uri(cluster.Nodes[0].Url, "/metrics"));
        Assert.Contains("ringkv_anti_entropy_rounds", metrics, StringComparison.Ordinal);
        Assert.Contains("ringkv_anti_entropy_ranges_compared", metrics, StringComparison.Ordinal);
    }

    /// <summary>The coordinator's transfers (the joins' included): none may be added by the restart.</summary>
    private static async Task<List<string>> TransferIdsAsync(TestCluster cluster)
    {
        var transfers = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers"));
        return [.. transfers.GetProperty("transfers").EnumerateArray().Select(t => t.GetProperty("id").GetString()!).Order(StringComparer.Ordinal)];
    }

    private static async Task<JsonElement> StatusAsync(TestCluster cluster, TestNode node) =>
        await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(node.Url, "/v1/local/anti-entropy"));

    private static async Task<LocalCopy?> CopyAsync(TestCluster cluster, TestNode node, string key) =>
        await cluster.LocalAsync(node, key) is { } local
            ? new LocalCopy(local.GetProperty("version").GetString()!, local.GetProperty("deleted").GetBoolean(), local.GetProperty("value").GetString()!)
            : null;

    /// <summary>A node's own copy of a key, as <c>/v1/local/kv</c> shows it (value in base64).</summary>
    private sealed record LocalCopy(string Version, bool Deleted, string Value);
}
