using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;

namespace RingKv.Cluster.Tests;

/// <summary>Adding and removing nodes under load: only what must move moves, verified, and nothing is lost.</summary>
public sealed class MembershipChangeTests
{
    private static readonly string[] QuickRelease = ["--release-grace", "1"];

    [Fact]
    public async Task AddingASixthNodeMovesAboutASixthOfTheCopiesAndEveryKeyEndsOnItsThreeOwners()
    {
        await using var cluster = await TestCluster.StartAsync(5, 3, "memory", QuickRelease);
        var keys = await PreloadAsync(cluster, 600);
        var transfersBefore = await TransferredKeysAsync(cluster);
        await using var load = new WriteLoad(cluster, "grow", maxWrites: 3000);
        await Eventually.WaitUntilAsync(() => load.Acknowledged.Count >= 50, TimeSpan.FromSeconds(30), () => "load did not start");
        var deleted = await DeleteSomeAsync(cluster, keys, every: 10);

        var newcomer = await cluster.AddNodeAsync("n6");
        await cluster.WaitUntilConvergedAsync();
        await cluster.WaitUntilFullyReplicatedAsync(TimeSpan.FromSeconds(60));
        await load.StopAsync();
        Assert.True(load.ErrorRate < 0.01, $"write error rate {load.ErrorRate:P2}");

        var moved = await TransferredKeysAsync(cluster) - transfersBefore;
        var copies = 3.0 * (keys.Count + load.Acknowledged.Count);
        Assert.InRange(moved / copies, (1.0 / 6) * 0.5, (1.0 / 6) * 1.5);
        await AssertEveryKeyOnExactlyItsOwnersAsync(cluster, keys, deleted, load);
    }

    [Fact]
    public async Task RemovingANodeFromSixHandsItsRangesOverAndNothingIsLost()
    {
        await using var cluster = await TestCluster.StartAsync(6, 3, "memory", QuickRelease);
        var keys = await PreloadAsync(cluster, 600);
        await using var load = new WriteLoad(cluster, "shrink", maxWrites: 3000);
        await Eventually.WaitUntilAsync(() => load.Acknowledged.Count >= 50, TimeSpan.FromSeconds(30), () => "load did not start");
        var deleted = await DeleteSomeAsync(cluster, keys, every: 10);

        var leaving = cluster.Nodes[3];
        await DecommissionAsync(cluster, leaving);
        string[] audited = [$"action=node-decommission-requested who=anonymous from 127.0.0.1: {leaving.Id}", $"action=member-removed who=coordinator: {leaving.Id}"];
        await Eventually.WaitUntilAsync(() => audited.All(line => cluster.Coordinator.StandardError.Contains(line, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), () => "the decommission is not in the audit log. " + cluster.Coordinator.Describe());
        await cluster.WaitUntilFullyReplicatedAsync(TimeSpan.FromSeconds(60));
        await load.StopAsync();
        Assert.True(load.ErrorRate < 0.01, $"write error rate {load.ErrorRate:P2}");
        await AssertEveryKeyOnExactlyItsOwnersAsync(cluster, keys, deleted, load);
    }

    [Fact]
    public async Task AddRemoveAndAddAgainInARowLoseNothingAndKeepTheRingBalanced()
    {
        await using var cluster = await TestCluster.StartAsync(5, 3, "memory", QuickRelease);
        var keys = await PreloadAsync(cluster, 600);
        await using var load = new WriteLoad(cluster, "churn", maxWrites: 4000);
        await Eventually.WaitUntilAsync(() => load.Acknowledged.Count >= 50, TimeSpan.FromSeconds(30), () => "load did not start");
        var deleted = await DeleteSomeAsync(cluster, keys, every: 10);

        await cluster.AddNodeAsync("n6");
        await WaitUntilNoChangeIsPendingAsync(cluster);
        await AssertBalancedAsync(cluster);
        await DecommissionAsync(cluster, cluster.Node("n2"));
        await AssertBalancedAsync(cluster);
        await cluster.AddNodeAsync("n7");
        await WaitUntilNoChangeIsPendingAsync(cluster);
        await AssertBalancedAsync(cluster);

        await cluster.WaitUntilConvergedAsync();
        await cluster.WaitUntilFullyReplicatedAsync(TimeSpan.FromSeconds(60));
        await load.StopAsync();
        Assert.True(load.ErrorRate < 0.01, $"write error rate {load.ErrorRate:P2}");
        var changes = await ChangesAsync(cluster);
        Assert.Equal(["join n6 done", "decommission n2 done", "join n7 done"], changes.TakeLast(3).Select(c => $"{c.Kind} {c.Node} {c.State}"));
        await AssertEveryKeyOnExactlyItsOwnersAsync(cluster, keys, deleted, load);
    }

    [Fact]
    public async Task ANodeAddedWhileAnotherIsBeingRemovedWaitsItsTurnAndBothComplete()
    {
        // A slow transfer rate keeps the decommission running long enough to queue a join behind it.
        await using var cluster = await TestCluster.StartAsync(5, 3, "memory", "--transfer-rate", "400", "--release-grace", "1");
        var keys = await PreloadAsync(cluster, 1500);
        await using var load = new WriteLoad(cluster, "queue", maxWrites: 4000);
        await Eventually.WaitUntilAsync(() => load.Acknowledged.Count >= 50, TimeSpan.FromSeconds(30), () => "load did not start");

        var leaving = cluster.Node("n3");
        await RequestDecommissionAsync(cluster, leaving);
        await WaitForRunningTransferAsync(cluster);
        var newcomer = await cluster.AddNodeAsync("n6");

        // Visible while it waits: the decommission runs, the join is queued, and the newcomer is on
        // no ring yet (no tokens), so the running change's transfers are exactly the ones it needs.
        var waiting = await ChangesAsync(cluster);
        Assert.Contains(waiting, c => c is { Kind: "decommission", Node: "n3", State: "running" });
        Assert.Contains(waiting, c => c is { Kind: "join", Node: "n6", State: "queued" });
        var member = (await cluster.ClusterAsync(cluster.CoordinatorUrl)).GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == newcomer.Id);
        Assert.Equal("joining", member.GetProperty("state").GetString());
        Assert.Equal(0, member.GetProperty("tokens").GetInt32());

        await StopOnceLeftAsync(cluster, leaving, TimeSpan.FromSeconds(90));
        await WaitUntilNoChangeIsPendingAsync(cluster);
        await cluster.WaitUntilConvergedAsync();
        await cluster.WaitUntilFullyReplicatedAsync(TimeSpan.FromSeconds(90));
        await load.StopAsync();
        Assert.True(load.ErrorRate < 0.01, $"write error rate {load.ErrorRate:P2}");
        var finished = await ChangesAsync(cluster);
        Assert.Contains(finished, c => c is { Kind: "decommission", Node: "n3", State: "done" });
        Assert.Contains(finished, c => c is { Kind: "join", Node: "n6", State: "done" });
        await AssertBalancedAsync(cluster);
        await AssertEveryKeyOnExactlyItsOwnersAsync(cluster, keys, [], load);
    }

    [Fact]
    public async Task RemovalThatWouldLeaveFewerNodesThanTheReplicationFactorIsRefused()
    {
        await using var cluster = await TestCluster.StartAsync(3, 3, "memory");
        using var response = await cluster.Http.DeleteAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/nodes/n2"));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("below-replication-factor", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("type").GetString());
    }

    [Fact]
    public async Task CancellingAJoinMidwayLeavesTheRingAsBeforeWithEveryKeyOnItsOriginalNodes()
    {
        await using var cluster = await TestCluster.StartAsync(4, 3, "memory", "--transfer-rate", "40", "--release-grace", "1");
        var keys = await PreloadAsync(cluster, 400);
        var placement = new Dictionary<string, List<string>>();
        foreach (var key in keys)
        {
            placement[key] = await cluster.LocateAsync(key);
        }
        var epochBefore = (await cluster.ClusterAsync(cluster.CoordinatorUrl)).GetProperty("epoch").GetInt64();

        var newcomer = await cluster.AddNodeAsync("n5");
        string? running = null;
        await Eventually.WaitUntilAsync(async () =>
        {
            var list = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers"));
            running = list.GetProperty("transfers").EnumerateArray()
                .Where(t => t.GetProperty("state").GetString() == "running" && t.GetProperty("rangesDone").GetInt32() > 0)
                .Select(t => t.GetProperty("id").GetString()).FirstOrDefault();
            return running is not null;
        }, TimeSpan.FromSeconds(30), () => "no transfer got under way");
        using (var cancel = await cluster.Http.DeleteAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers/" + running)))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }
        await Eventually.WaitUntilAsync(async () => (await cluster.MemberStatesAsync()).Count == 4, TimeSpan.FromSeconds(30), () => "the join was not rolled back");
        var transfer = (await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers")))
            .GetProperty("transfers").EnumerateArray().Single(t => t.GetProperty("id").GetString() == running);
        Assert.Equal("cancelled", transfer.GetProperty("state").GetString());
        string[] audited = [$"action=transfer-cancel-requested who=anonymous from 127.0.0.1: {running}", $"action=transfer-cancelled who=coordinator: {running}",
            "action=change-rolled-back who=coordinator:", $"action=member-removed who=coordinator: {newcomer.Id}"];
        await Eventually.WaitUntilAsync(() => audited.All(line => cluster.Coordinator.StandardError.Contains(line, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), () => "the cancelled join is not in the audit log. " + cluster.Coordinator.Describe());
        Assert.True((await cluster.ClusterAsync(cluster.CoordinatorUrl)).GetProperty("epoch").GetInt64() > epochBefore);
        await cluster.KillAsync(newcomer);
        cluster.Nodes.Remove(newcomer);

        foreach (var key in keys)
        {
            Assert.Equal(placement[key], await cluster.LocateAsync(key));
            foreach (var node in cluster.Nodes)
            {
                Assert.Equal(placement[key].Contains(node.Id), await cluster.LocalAsync(node, key) is not null);
            }
        }
    }

    [Fact]
    public async Task JoinWhoseSourceIsKilledMidwayFinishesFromTheOtherReplicas()
    {
        await using var cluster = await TestCluster.StartAsync(4, 3, "memory", "--transfer-rate", "300", "--release-grace", "1");
        var (keys, newcomer) = await StartSlowJoinAsync(cluster);
        var source = cluster.Nodes[0];
        await cluster.KillAsync(source);

        // The join completes (ranges come from the other replicas); the dead source is evicted and its copies rebuilt.
        await Eventually.WaitUntilAsync(async () =>
        {
            var states = await cluster.MemberStatesAsync();
            return states.GetValueOrDefault(newcomer.Id) == "up" && !states.ContainsKey(source.Id);
        }, TimeSpan.FromSeconds(90), () => "the join did not complete, or the dead source was not evicted");
        await cluster.WaitUntilFullyReplicatedAsync(TimeSpan.FromSeconds(90));
        cluster.Nodes.Remove(source);
        await AssertEveryKeyOnExactlyItsOwnersAsync(cluster, keys, [], null);
    }

    [Fact]
    public async Task JoinWhoseDestinationIsKilledMidwayRollsBack()
    {
        await using var cluster = await TestCluster.StartAsync(4, 3, "memory", "--transfer-rate", "300", "--release-grace", "1");
        var (keys, newcomer) = await StartSlowJoinAsync(cluster);
        await cluster.KillAsync(newcomer);
        cluster.Nodes.Remove(newcomer);

        await Eventually.WaitUntilAsync(async () => (await cluster.MemberStatesAsync()).Count == 4, TimeSpan.FromSeconds(60), () => "the join was not rolled back");
        var transfers = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers"));
        Assert.Contains(transfers.GetProperty("transfers").EnumerateArray(), t => t.GetProperty("destination").GetString() == newcomer.Id && t.GetProperty("state").GetString() == "failed");
        await AssertEveryKeyOnExactlyItsOwnersAsync(cluster, keys, [], null);
    }

    private sealed record ChangeRow(string Id, string Kind, string Node, string State);

    private static async Task<List<ChangeRow>> ChangesAsync(TestCluster cluster)
    {
        var list = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/changes"));
        return [.. list.GetProperty("changes").EnumerateArray().Select(c => new ChangeRow(
            c.GetProperty("id").GetString()!, c.GetProperty("kind").GetString()!, c.GetProperty("node").GetString()!, c.GetProperty("state").GetString()!))];
    }

    private static async Task WaitUntilNoChangeIsPendingAsync(TestCluster cluster)
    {
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            var pending = (await ChangesAsync(cluster)).Where(c => c.State is "queued" or "running").ToList();
            seen = string.Join(", ", pending.Select(c => $"{c.Id} {c.Kind} {c.Node} {c.State}"));
            return pending.Count == 0;
        }, TimeSpan.FromSeconds(90), () => "changes still pending: " + seen);
    }

    /// <summary>Decommissions a live node, waits until it left the ring, and stops it.</summary>
    private static async Task DecommissionAsync(TestCluster cluster, TestNode leaving)
    {
        await RequestDecommissionAsync(cluster, leaving);
        await StopOnceLeftAsync(cluster, leaving, TimeSpan.FromSeconds(60));
    }

    /// <summary>Asks the coordinator to decommission a node; the load stops using it.</summary>
    private static async Task RequestDecommissionAsync(TestCluster cluster, TestNode leaving)
    {
        leaving.Draining = true;
        using var response = await cluster.Http.DeleteAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/nodes/" + leaving.Id));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>Waits until the node left the ring (its ranges handed over), then stops its process.</summary>
    private static async Task StopOnceLeftAsync(TestCluster cluster, TestNode leaving, TimeSpan deadline)
    {
        await Eventually.WaitUntilAsync(async () => !(await cluster.MemberStatesAsync()).ContainsKey(leaving.Id),
            deadline, () => $"{leaving.Id} did not leave");
        await cluster.KillAsync(leaving);
        cluster.Nodes.Remove(leaving);
    }

    /// <summary>The cluster issue's balance bound: the largest node's share of the ring at most 1.25 times the smallest's.</summary>
    private static async Task AssertBalancedAsync(TestCluster cluster)
    {
        var owners = (await cluster.ClusterAsync(cluster.CoordinatorUrl)).GetProperty("nodes").EnumerateArray()
            .Where(n => n.GetProperty("state").GetString() == "up").Select(n => n.GetProperty("ownership").GetDouble()).ToList();
        Assert.True(owners.Max() <= 1.25 * owners.Min(), $"ownership {string.Join(", ", owners)}");
    }

    /// <summary>Preloads keys, adds n5, and returns once its (rate-limited) transfer is under way.</summary>
    private static async Task<(List<string> Keys, TestNode Newcomer)> StartSlowJoinAsync(TestCluster cluster)
    {
        var keys = await PreloadAsync(cluster, 1500);
        var newcomer = await cluster.AddNodeAsync("n5");
        await WaitForRunningTransferAsync(cluster);
        return (keys, newcomer);
    }

    private static async Task WaitForRunningTransferAsync(TestCluster cluster) =>
        await Eventually.WaitUntilAsync(async () =>
        {
            var list = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers"));
            return list.GetProperty("transfers").EnumerateArray().Any(t => t.GetProperty("state").GetString() == "running" && t.GetProperty("rangesDone").GetInt32() > 0 && t.GetProperty("keys").GetInt64() > 0);
        }, TimeSpan.FromSeconds(30), () => "no transfer got under way");

    private static async Task<List<string>> PreloadAsync(TestCluster cluster, int count)
    {
        var keys = Enumerable.Range(0, count).Select(i => $"pre/{i}").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (key, _) =>
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, key, "v-" + key, "?w=3")));
        return keys;
    }

    private static async Task<HashSet<string>> DeleteSomeAsync(TestCluster cluster, List<string> keys, int every)
    {
        var deleted = new HashSet<string>();
        for (var i = 0; i < keys.Count; i += every)
        {
            using var response = await cluster.Http.DeleteAsync(new Uri(cluster.Nodes[1].Url, "/v1/kv/" + Uri.EscapeDataString(keys[i])));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            deleted.Add(keys[i]);
        }
        return deleted;
    }

    private static async Task<long> TransferredKeysAsync(TestCluster cluster)
    {
        var list = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/transfers"));
        return list.GetProperty("transfers").EnumerateArray().Sum(t => t.GetProperty("keys").GetInt64());
    }

    /// <summary>Every live key on exactly its three preference-list nodes and no other; deleted keys stay deleted.</summary>
    private static async Task AssertEveryKeyOnExactlyItsOwnersAsync(TestCluster cluster, List<string> keys, HashSet<string> deleted, WriteLoad? load)
    {
        var expected = keys.Where(k => !deleted.Contains(k)).ToDictionary(k => k, k => "v-" + k);
        foreach (var (key, value) in load?.Acknowledged ?? [])
        {
            expected[key] = value;
        }
        await Parallel.ForEachAsync(expected, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (pair, _) =>
        {
            var owners = await cluster.LocateAsync(pair.Key);
            var holders = new List<string>();
            await Eventually.WaitUntilAsync(async () =>
            {
                holders.Clear();
                foreach (var node in cluster.Nodes)
                {
                    if (await cluster.LocalValueAsync(node, pair.Key) is { } value)
                    {
                        Assert.Equal(pair.Value, value);
                        holders.Add(node.Id);
                    }
                }
                return holders.Order().SequenceEqual(owners.Order());
            }, TimeSpan.FromSeconds(20), () => $"{pair.Key}: expected on [{string.Join(",", owners)}], found on [{string.Join(",", holders)}]");
        });
        foreach (var key in deleted)
        {
            var (status, body) = await cluster.GetAsync(cluster.Nodes[0].Url, key);
            Assert.True(status == HttpStatusCode.NotFound, $"deleted {key} came back: {body}");
        }
    }
}
