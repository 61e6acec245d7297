using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;
using Xunit.Abstractions;

namespace RingKv.Cluster.Tests;

/// <summary>Deletes that stay deleted: tombstones are purged only when safe, and do not pile up.</summary>
public sealed class TombstoneTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly ParallelOptions Clients = new() { MaxDegreeOfParallelism = 8 };
    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(15);

    // Short settings: a tombstone may go 2 s after the delete, anti-entropy rounds every second,
    // placement counts as cleaned up a second after the last membership change.
    private static readonly string[] CoordinatorArgs = ["--release-grace", "1"];
    private static readonly string[] NodeArgs = ["--tombstone-grace", "2", "--anti-entropy-pause", "1"];

    [Fact]
    public async Task WritingAndDeletingKeysKeepsABoundedNumberOfTombstonesAndDeletedKeysStayDeleted()
    {
        await using var cluster = await TestCluster.StartWithArgsAsync(3, "rocksdb", CoordinatorArgs, _ => NodeArgs);
        await WaitUntilQuietAsync(cluster);
        var nodes = cluster.Nodes;
        var deleted = new List<string>();
        var rewritten = new List<string>();
        long peak = 0;
        var rounds = 0;
        double slowestRound = 0;
        var load = Stopwatch.StartNew();
        // Bounded in time and count: new keys every round, so without purging every tombstone stays.
        while (load.Elapsed < LoadDuration && rounds < 1000)
        {
            var keys = Enumerable.Range(0, 20).Select(i => $"churn/{rounds}/{i}").ToList();
            await Parallel.ForEachAsync(keys.Select((key, i) => (key, i)), Clients, async (item, _) =>
            {
                var (key, i) = item;
                Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(nodes[i % 3].Url, key, "first"));
                Assert.Equal(HttpStatusCode.NoContent, await DeleteAsync(cluster, nodes[(i + 1) % 3].Url, key));
                if (i % 5 == 0)
                {
                    // Written again after its delete: a purge must never take a live value with it.
                    Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(nodes[(i + 2) % 3].Url, key, "again"));
                }
            });
            deleted.AddRange(keys.Where((_, i) => i % 5 != 0));
            rewritten.AddRange(keys.Where((_, i) => i % 5 == 0));
            rounds++;
            foreach (var node in nodes)
            {
                var t = await TombstonesAsync(cluster, node);
                peak = Math.Max(peak, t.Count ?? 0);
                slowestRound = Math.Max(slowestRound, t.LastRoundSeconds);
            }
        }
        // Purged while the load ran, on every node: the count levels off at about a grace period
        // plus a few rounds' worth of deletes instead of growing with every delete.
        var purgedDuringLoad = new List<long>();
        foreach (var node in nodes)
        {
            purgedDuringLoad.Add((await TombstonesAsync(cluster, node)).Purged);
        }
        output.WriteLine($"{rounds} rounds in {load.Elapsed.TotalSeconds:0.0} s: {deleted.Count} keys deleted, {rewritten.Count} rewritten; at most {peak} tombstones on a node; purged during the load: {string.Join(", ", purgedDuringLoad)}; slowest anti-entropy round {slowestRound:0.0} s");
        Assert.All(purgedDuringLoad, purged => Assert.True(purged > 0, "a node purged nothing while the load ran"));
        Assert.True(peak < deleted.Count, $"a node held {peak} tombstones of {deleted.Count} deletes: every one of them at once");

        // Once writes stop, every tombstone goes within a few rounds past the grace period: counted
        // after the load (an earlier count says nothing), and each node purged every delete.
        var loadEnded = DateTimeOffset.UtcNow;
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            var figures = new List<string>();
            var done = true;
            foreach (var node in nodes)
            {
                var t = await TombstonesAsync(cluster, node);
                figures.Add($"{node.Id}: {t.Count} left at {t.CountedAt:HH:mm:ss.fff}, {t.Purged} purged, last refusal: {t.LastRefusal}");
                done &= t.Count == 0 && t.CountedAt > loadEnded && t.Purged >= deleted.Count;
            }
            seen = string.Join("; ", figures);
            return done;
        }, Deadline, () => "tombstones were not purged: " + seen);
        output.WriteLine("after the load: " + seen);

        await AssertEveryNodeReadsAsync(cluster, deleted, rewritten);
    }

    [Fact]
    public async Task ReplicaAwayWhileKeysWereDeletedDoesNotBringThemBack()
    {
        // A long eviction grace: the stopped node must come back as the same member, with its old
        // copies on disk (SIGKILL, then a restart on the same data directory).
        await using var cluster = await TestCluster.StartWithArgsAsync(3, "rocksdb", [.. CoordinatorArgs, "--eviction-grace", "120"], _ => NodeArgs);
        var (a, b, away) = (cluster.Nodes[0], cluster.Nodes[1], cluster.Nodes[2]);
        var keys = Enumerable.Range(0, 30).Select(i => $"away/{i}").ToList();
        await Parallel.ForEachAsync(keys, Clients, async (key, _) =>
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(a.Url, key, "old", "?w=3")));
        await WaitUntilQuietAsync(cluster);

        Assert.All(keys, key => Assert.Equal("old", cluster.LocalValueAsync(away, key).GetAwaiter().GetResult()));
        await cluster.KillAsync(away);
        await Parallel.ForEachAsync(keys, Clients, async (key, _) =>
            Assert.Equal(HttpStatusCode.NoContent, await DeleteAsync(cluster, a.Url, key)));
        var deletedAt = Stopwatch.StartNew();
        // Well past the grace period, with several anti-entropy rounds on the nodes that hold the
        // tombstones: none may be purged while a replica that still has the old values is away.
        var roundsAtDelete = await RoundsAsync(cluster, a);
        var progress = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            progress = (await cluster.Http.GetStringAsync(new Uri(a.Url, "/v1/local/anti-entropy"))) + " members: " + string.Join(", ", await cluster.MemberStatesAsync());
            return deletedAt.Elapsed > TimeSpan.FromSeconds(5) && await RoundsAsync(cluster, a) >= roundsAtDelete + 2;
        }, Deadline, () => $"{a.Id} did not complete 2 anti-entropy rounds (from {roundsAtDelete}) while {away.Id} was away: {progress}");
        foreach (var node in new[] { a, b })
        {
            foreach (var key in keys)
            {
                var copy = await cluster.LocalAsync(node, key);
                Assert.True(copy is { } c && c.GetProperty("deleted").GetBoolean(), $"{node.Id} lost the tombstone of {key} while {away.Id} was away");
            }
            var t = await TombstonesAsync(cluster, node);
            Assert.Equal(0, t.Purged);
            output.WriteLine($"{node.Id} while {away.Id} was away: {t.Count} tombstones, last refusal: {t.LastRefusal}");
        }
        await cluster.StartNodeAsync(away);

        // Back: it gets the tombstones first (anti-entropy), and only then are they purged, everywhere.
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            foreach (var node in cluster.Nodes)
            {
                foreach (var key in keys)
                {
                    if (await cluster.LocalAsync(node, key) is { } copy)
                    {
                        seen = $"{node.Id} still holds {key} (deleted: {copy.GetProperty("deleted").GetBoolean()})";
                        return false;
                    }
                }
            }
            return true;
        }, Deadline, () => "the tombstones were not purged after the replica came back: " + seen);
        output.WriteLine($"purged everywhere {deletedAt.Elapsed.TotalSeconds:0.0} s after the deletes");

        // And they stay gone: another round on every node brings nothing back.
        var rounds = new Dictionary<string, long>();
        foreach (var node in cluster.Nodes)
        {
            rounds[node.Id] = await RoundsAsync(cluster, node);
        }
        await Eventually.WaitUntilAsync(async () =>
        {
            foreach (var node in cluster.Nodes)
            {
                if (await RoundsAsync(cluster, node) < rounds[node.Id] + 2)
                {
                    return false;
                }
            }
            return true;
        }, Deadline, () => "anti-entropy rounds did not complete");
        await AssertEveryNodeReadsAsync(cluster, keys, []);
        foreach (var node in cluster.Nodes)
        {
            foreach (var key in keys)
            {
                Assert.Null(await cluster.LocalAsync(node, key));
            }
        }
    }

    /// <summary>
    /// GET at quorum: deleted keys are 404, rewritten ones have their last value. Every key through
    /// one node (in turn), and the first few hundred through every node.
    /// </summary>
    private static async Task AssertEveryNodeReadsAsync(TestCluster cluster, List<string> deleted, List<string> rewritten)
    {
        var reads = deleted.Select((key, i) => (Key: key, Expected: (string?)null, Node: cluster.Nodes[i % cluster.Nodes.Count]))
            .Concat(rewritten.Select((key, i) => (Key: key, Expected: (string?)"again", Node: cluster.Nodes[i % cluster.Nodes.Count])))
            .Concat(cluster.Nodes.SelectMany(node => deleted.Take(300).Select(key => (Key: key, Expected: (string?)null, Node: node))))
            .ToList();
        await Parallel.ForEachAsync(reads, Clients, async (read, _) =>
        {
            var (status, body) = await cluster.GetAsync(read.Node.Url, read.Key);
            Assert.True(read.Expected is null ? status == HttpStatusCode.NotFound : status == HttpStatusCode.OK && body == read.Expected,
                $"{read.Key} read through {read.Node.Id}: {(int)status} {body}, expected {read.Expected ?? "404"}");
        });
    }

    private static async Task WaitUntilQuietAsync(TestCluster cluster)
    {
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            var status = await cluster.ClusterAsync(cluster.CoordinatorUrl);
            seen = status.GetRawText();
            return status.GetProperty("quiet").GetBoolean();
        }, Deadline, () => "the cluster never became quiet: " + seen);
    }

    private static async Task<HttpStatusCode> DeleteAsync(TestCluster cluster, Uri node, string key)
    {
        using var response = await cluster.Http.DeleteAsync(new Uri(node, "/v1/kv/" + Uri.EscapeDataString(key)));
        return response.StatusCode;
    }

    private static async Task<long> RoundsAsync(TestCluster cluster, TestNode node) =>
        (await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(node.Url, "/v1/local/anti-entropy"))).GetProperty("roundsCompleted").GetInt64();

    private static async Task<TombstoneFigures> TombstonesAsync(TestCluster cluster, TestNode node)
    {
        var status = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(node.Url, "/v1/local/anti-entropy"));
        var t = status.GetProperty("tombstones");
        // Absent until known: the document leaves out what is null.
        return new TombstoneFigures(
            t.TryGetProperty("count", out var count) ? count.GetInt64() : null,
            t.GetProperty("purged").GetInt64(),
            t.TryGetProperty("lastRefusal", out var refusal) ? refusal.GetString() : null,
            t.TryGetProperty("countedAt", out var countedAt) ? countedAt.GetDateTimeOffset() : null,
            status.TryGetProperty("lastRound", out var round) ? round.GetProperty("durationMs").GetDouble() / 1000 : 0);
    }

    private sealed record TombstoneFigures(long? Count, long Purged, string? LastRefusal, DateTimeOffset? CountedAt, double LastRoundSeconds);
}
