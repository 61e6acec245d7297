using System.Net;
using System.Text.Json;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;

namespace RingKv.Cluster.Tests;

/// <summary>Node failure: detection in stages, eviction without storms, and 3 copies rebuilt on live nodes.</summary>
public sealed class FailureTests
{
    // Short thresholds keep the tests quick; the defaults (3 s, 10 s) are the same mechanism. Two
    // missed one-second heartbeats before suspicion, so a loaded test machine does not flap.
    private static readonly string[] FastDetection = ["--suspect-after", "2", "--eviction-grace", "5"];

    [Fact]
    public async Task DeadNodeIsEvictedAndEveryKeyIsBackOnThreeDistinctLiveNodes()
    {
        await using var cluster = await TestCluster.StartAsync(5, 3, "rocksdb", FastDetection);
        var before = Enumerable.Range(0, 300).Select(i => $"before/{i}").ToList();
        foreach (var key in before)
        {
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, key, "b-" + key));
        }
        await using var load = new WriteLoad(cluster, "during");
        await Eventually.WaitUntilAsync(() => load.Acknowledged.Count >= 100, TimeSpan.FromSeconds(30), () => $"load acknowledged {load.Acknowledged.Count}");

        var victim = cluster.Nodes[2];
        var killedAt = DateTime.UtcNow;
        await cluster.KillAsync(victim);
        await Eventually.WaitUntilAsync(async () => !(await cluster.MemberStatesAsync()).ContainsKey(victim.Id),
            TimeSpan.FromSeconds(30), () => $"{victim.Id} was not evicted");
        var evictedAfter = DateTime.UtcNow - killedAt;
        Assert.True(evictedAfter < TimeSpan.FromSeconds(5 + 6), $"evicted after {evictedAfter.TotalSeconds:0.0} s");
        var status = await cluster.ClusterAsync(cluster.CoordinatorUrl);
        var transitions = status.GetProperty("transitions").EnumerateArray().Where(t => t.GetProperty("node").GetString() == victim.Id).Select(t => t.GetProperty("to").GetString()).ToList();
        Assert.Contains("suspect", transitions);
        Assert.Contains("dead", transitions);

        await cluster.WaitUntilFullyReplicatedAsync(TimeSpan.FromSeconds(60));
        await load.StopAsync();
        await Eventually.WaitUntilAsync(() => cluster.Coordinator.StandardError.Contains($"action=member-evicted who=coordinator: {victim.Id}", StringComparison.Ordinal) &&
            cluster.Coordinator.StandardError.Contains("action=transfer-started who=coordinator:", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), () => "the eviction is not in the audit log. " + cluster.Coordinator.Describe());
        Assert.True(load.ErrorRate < 0.01, $"write error rate {load.ErrorRate:P2} ({load.Failed} of {load.Attempted})");

        var expected = before.ToDictionary(k => k, k => "b-" + k);
        foreach (var (key, value) in load.Acknowledged)
        {
            expected[key] = value;
        }
        var live = cluster.Nodes.Where(n => n != victim).ToList();
        await Parallel.ForEachAsync(expected, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (pair, _) =>
        {
            var owners = await cluster.LocateAsync(pair.Key);
            Assert.Equal(3, owners.Distinct().Count());
            Assert.DoesNotContain(victim.Id, owners);
            var holders = new List<string>();
            await Eventually.WaitUntilAsync(async () =>
            {
                holders.Clear();
                foreach (var node in live)
                {
                    if (await cluster.LocalValueAsync(node, pair.Key) == pair.Value)
                    {
                        holders.Add(node.Id);
                    }
                }
                return holders.Order().SequenceEqual(owners.Order());
            }, TimeSpan.FromSeconds(15), () => $"{pair.Key}: expected on [{string.Join(",", owners)}], found on [{string.Join(",", holders)}]");
        });
        var transfers = await cluster.Http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers"));
        using var doc = JsonDocument.Parse(transfers);
        Assert.All(doc.RootElement.GetProperty("transfers").EnumerateArray(), t => Assert.Equal("done", t.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task TwoOfFiveNodesKilledAtOnceAreEvictedOneAtATimeAndTheThreeLeftHoldEveryKey()
    {
        await using var cluster = await TestCluster.StartAsync(5, 3, "memory", FastDetection);
        var keys = Enumerable.Range(0, 300).Select(i => $"double/{i}").ToList();
        foreach (var key in keys)
        {
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, key, "v-" + key, "?w=3"));
        }
        var victims = new[] { cluster.Nodes[1], cluster.Nodes[3] };
        await Task.WhenAll(victims.Select(cluster.KillAsync));
        await using (var load = new WriteLoad(cluster, "double-during", maxWrites: 400))
        {
            await Eventually.WaitUntilAsync(async () => (await cluster.MemberStatesAsync()).Count == 3,
                TimeSpan.FromSeconds(60), () => "the two dead nodes were not both evicted");
            await cluster.WaitUntilFullyReplicatedAsync(TimeSpan.FromSeconds(60));
            await load.StopAsync();
            foreach (var (key, value) in load.Acknowledged)
            {
                keys.Add(key);
            }
        }
        var evictions = (await cluster.ClusterAsync(cluster.CoordinatorUrl)).GetProperty("transitions").EnumerateArray()
            .Where(t => t.GetProperty("reason").GetString()!.StartsWith("evicted", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, evictions.Count);
        var live = cluster.Nodes.Except(victims).ToList();
        foreach (var key in keys)
        {
            // Three nodes left, RF 3: every key on every one of them.
            await Eventually.WaitUntilAsync(async () =>
            {
                foreach (var node in live)
                {
                    if (await cluster.LocalAsync(node, key) is null)
                    {
                        return false;
                    }
                }
                return true;
            }, TimeSpan.FromSeconds(15), () => $"{key} is not on all three remaining nodes");
        }
    }

    [Fact]
    public async Task ThreeNodeClusterLosingANodeIsUnderReplicatedEvictsNobodyAndKeepsQuorum()
    {
        await using var cluster = await TestCluster.StartAsync(3, 3, "memory", FastDetection);
        var victim = cluster.Nodes[1];
        await cluster.KillAsync(victim);
        await Eventually.WaitUntilAsync(async () => (await cluster.MemberStatesAsync()).GetValueOrDefault(victim.Id) == "dead",
            TimeSpan.FromSeconds(30), () => $"{victim.Id} not reported dead");
        var status = await cluster.ClusterAsync(cluster.CoordinatorUrl);
        Assert.True(status.GetProperty("underReplicatedRanges").GetInt32() > 0);
        // Dead but still a member: evicting it would leave fewer live nodes than RF.
        for (var i = 0; i < 20; i++)
        {
            var through = cluster.Nodes[i % 2 == 0 ? 0 : 2];
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(through.Url, $"rf-kept/{i}", "v"));
            Assert.Equal(HttpStatusCode.OK, (await cluster.GetAsync(through.Url, $"rf-kept/{i}")).Status);
        }
        Assert.True((await cluster.MemberStatesAsync()).ContainsKey(victim.Id), "the dead node was evicted below RF");
    }

    [Fact]
    public async Task CoordinatorPausedForTwiceTheGracePeriodEvictsNobody()
    {
        await using var cluster = await TestCluster.StartAsync(4, 3, "memory", FastDetection);
        cluster.Coordinator.Pause();
        try
        {
            // While it is stopped nothing can be asked of it; wait out twice the grace period by the
            // nodes' own progress: they keep serving, and time passes.
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            var i = 0;
            while (DateTime.UtcNow < until)
            {
                Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[i % 4].Url, $"paused-coordinator/{i}", "v"));
                i++;
            }
        }
        finally
        {
            cluster.Coordinator.Resume();
        }
        // After the pause it warms up for a full grace period of fresh heartbeats: nobody is judged.
        var observeUntil = DateTime.UtcNow + TimeSpan.FromSeconds(7);
        while (DateTime.UtcNow < observeUntil)
        {
            var states = await cluster.MemberStatesAsync();
            Assert.Equal(4, states.Count);
            Assert.All(states, s => Assert.Equal("up", s.Value));
            await Task.Delay(250);
        }
    }

    [Fact]
    public async Task NodePausedPastTheGracePeriodIsEvictedAndReturnsOnlyAsANewEmptyMember()
    {
        await using var cluster = await TestCluster.StartAsync(4, 3, "rocksdb", FastDetection);
        var keys = Enumerable.Range(0, 100).Select(i => $"stale/{i}").ToList();
        foreach (var key in keys)
        {
            await cluster.PutAsync(cluster.Nodes[0].Url, key, "old", "?w=3");
        }
        var sleeper = cluster.Nodes[3];
        cluster.Pause(sleeper);
        await Eventually.WaitUntilAsync(async () => !(await cluster.MemberStatesAsync()).ContainsKey(sleeper.Id),
            TimeSpan.FromSeconds(30), () => $"{sleeper.Id} was not evicted");
        await cluster.WaitUntilFullyReplicatedAsync(TimeSpan.FromSeconds(60));
        // While it sleeps, half the keys are deleted and the rest rewritten.
        for (var i = 0; i < keys.Count; i++)
        {
            if (i % 2 == 0)
            {
                using var deleted = await cluster.Http.DeleteAsync(new Uri(cluster.Nodes[0].Url, "/v1/kv/" + Uri.EscapeDataString(keys[i])));
                Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            }
            else
            {
                Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[1].Url, keys[i], "new"));
            }
        }

        cluster.Resume(sleeper);
        // It learns it was evicted, drops its data and joins again under a new id.
        await Eventually.WaitUntilAsync(async () =>
        {
            var status = await cluster.ClusterAsync(cluster.CoordinatorUrl);
            return status.GetProperty("nodes").EnumerateArray().Any(n =>
                n.GetProperty("clientUrl").GetString() == sleeper.Url.ToString().TrimEnd('/') && n.GetProperty("id").GetString() != sleeper.Id);
        }, TimeSpan.FromSeconds(30), () => $"{sleeper.Id} did not come back as a new member");
        await cluster.WaitUntilFullyReplicatedAsync(TimeSpan.FromSeconds(60));

        for (var i = 0; i < keys.Count; i++)
        {
            foreach (var node in cluster.Nodes)
            {
                var (status, body) = await cluster.GetAsync(node.Url, keys[i]);
                if (i % 2 == 0)
                {
                    Assert.True(status == HttpStatusCode.NotFound, $"deleted {keys[i]} came back through {node.Id}: {body}");
                }
                else
                {
                    Assert.True(status == HttpStatusCode.OK && body == "new", $"{keys[i]} through {node.Id}: {status} {body}");
                }
            }
        }
    }
}

/// <summary>Sloppy quorum and hinted handoff: a node that comes back within the grace period catches up from hints, with no transfer.</summary>
public sealed class HintedHandoffTests
{
    private static List<string> TransferIds(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("transfers").EnumerateArray().Select(t => t.GetProperty("id").GetString()!).ToList();
    }

    [Fact]
    public async Task NodeRestartedWithinTheGracePeriodCatchesUpFromHintsWithoutATransfer()
    {
        await using var cluster = await TestCluster.StartAsync(5, 3, "rocksdb", "--suspect-after", "2", "--eviction-grace", "30");
        var away = cluster.Nodes[4];
        var transfersBefore = await cluster.Http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers"));
        await cluster.KillAsync(away);
        await using var load = new WriteLoad(cluster, "hinted", maxWrites: 600);
        // Writes go on while it is down: first failing over at runtime, then (once it is suspect) to fallbacks directly.
        await Eventually.WaitUntilAsync(async () => (await cluster.MemberStatesAsync())[away.Id] == "suspect" && load.Acknowledged.Count >= 300,
            TimeSpan.FromSeconds(60), () => $"{away.Id} not suspect or load short ({load.Acknowledged.Count})");
        await load.StopAsync();
        Assert.True(load.ErrorRate < 0.01, $"write error rate {load.ErrorRate:P2}");
        var status = await cluster.ClusterAsync(cluster.CoordinatorUrl);
        Assert.Contains(status.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("pendingHints").GetInt64() > 0);

        await cluster.StartNodeAsync(away);
        var mine = new List<KeyValuePair<string, string>>();
        foreach (var pair in load.Acknowledged)
        {
            if ((await cluster.LocateAsync(pair.Key)).Contains(away.Id))
            {
                mine.Add(pair);
            }
        }
        Assert.NotEmpty(mine);
        await Eventually.WaitUntilAsync(async () =>
        {
            foreach (var (key, value) in mine)
            {
                if (await cluster.LocalValueAsync(away, key) != value)
                {
                    return false;
                }
            }
            return true;
        }, TimeSpan.FromSeconds(30), () => $"{away.Id} did not receive its {mine.Count} keys from hints");
        await Eventually.WaitUntilAsync(async () =>
            (await cluster.ClusterAsync(cluster.CoordinatorUrl)).GetProperty("nodes").EnumerateArray().All(n => n.GetProperty("pendingHints").GetInt64() == 0),
            TimeSpan.FromSeconds(30), () => "hints still pending after the owner came back");
        // No transfer was started for it (the ones listed come from the cluster's own start-up joins).
        var transfersAfter = await cluster.Http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers"));
        Assert.Equal(TransferIds(transfersBefore), TransferIds(transfersAfter));
        // Nothing is on a node it does not belong to: hints were kept apart from the fallbacks' own data.
        foreach (var (key, _) in mine.Take(50))
        {
            var owners = await cluster.LocateAsync(key);
            foreach (var node in cluster.Nodes.Where(n => !owners.Contains(n.Id)))
            {
                Assert.Null(await cluster.LocalAsync(node, key));
            }
        }
    }
}
