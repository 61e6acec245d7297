using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RingKv.Cluster.Tests.Histories;
using RingKv.Testing;
using Xunit.Abstractions;

namespace RingKv.Cluster.Tests.Partitions;

/// <summary>
/// Real network partitions: nodes in network namespaces, the network between
/// them cut and healed under a steady mixed load whose every operation is recorded and checked
/// afterwards (<see cref="HistoryChecker"/>): no acknowledged write lost, no value that was never
/// written, deletes stay deleted, and every replica identical within the convergence bound.
/// </summary>
public sealed class PartitionTests(PartitionClusterFixture fixture, ITestOutputHelper output) : IClassFixture<PartitionClusterFixture>, IDisposable
{
    /// <summary>The issue's bound for a small cluster to converge after a fault heals: of the order of a minute.</summary>
    private static readonly TimeSpan ConvergenceBound = TimeSpan.FromSeconds(60);

    /// <summary>Longer than the 2 s quorum wait: a write that got no answer in this time has an unknown outcome.</summary>
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Progress = TimeSpan.FromSeconds(30);

    private readonly List<IDisposable> _disposables = [];

    /// <summary>After every scenario, failed ones included: the next one starts from a whole network and running nodes.</summary>
    public void Dispose()
    {
        _disposables.ForEach(d => d.Dispose());
        if (fixture.Started is { } cluster)
        {
            cluster.Network.Heal();
            foreach (var node in cluster.Nodes.Where(n => n.Paused))
            {
                cluster.Resume(node);
            }
        }
    }

    [PartitionFact]
    public async Task OneNodeIsolatedFor15SecondsLosesNoAcknowledgedWriteAndConvergesAfterHealing()
    {
        var cluster = await fixture.GetAsync();
        await cluster.WaitUntilHealthyAsync(ConvergenceBound);
        var keys = Keys("isolated", 40);
        var isolated = cluster.Nodes[^1];
        var (history, clients) = (new History(), ClientsOnEveryNode(cluster, keys));
        Operation[] duringCut;
        DateTime cutAt;
        Stopwatch healed;
        await using (var load = new MixedLoad(history, clients, seed: 1501))
        {
            await load.WaitForMoreAsync(10, Progress, AllClients(clients));
            cutAt = DateTime.UtcNow;
            var cut = Stopwatch.StartNew();
            cluster.Network.Isolate(isolated.Host);
            // The cut is real when the coordinator stops hearing the node.
            await WaitForStateAsync(cluster, isolated.Id, "suspect", TimeSpan.FromSeconds(15));
            await Task.Delay(Remaining(TimeSpan.FromSeconds(15), cut));
            // Operations that ended before healing began: the network was cut for all of them that started after the cut.
            var healAt = DateTime.UtcNow;
            cluster.Network.Heal();
            healed = Stopwatch.StartNew();
            duringCut = [.. history.Operations.Where(o => o.Start >= cutAt && o.End <= healAt)];
            await load.WaitForMoreAsync(10, Progress, AllClients(clients));
        }
        var finals = await ConvergeAsync(cluster, keys, healed);
        var converged = healed.Elapsed;

        var operations = history.Operations;
        Report("one node isolated for 15 s", history, converged);
        AssertNoErrors(HistoryChecker.CheckFinal(operations, finals));
        // Both sides had clients: the majority kept acknowledging writes, the isolated node could not reach a quorum.
        var isolatedClient = clients.Count - 1;
        Assert.Contains(duringCut, o => o.Client != isolatedClient && o.IsWrite && o.Outcome == Outcome.Ok);
        Assert.DoesNotContain(duringCut, o => o.Client == isolatedClient && o.IsWrite && o.Outcome == Outcome.Ok && o.Start > cutAt.AddSeconds(1));
        Assert.Contains(duringCut, o => o.Client == isolatedClient && o.IsWrite && o.Outcome != Outcome.Ok);
    }

    [PartitionFact]
    public async Task TwoThreeSplitWithWritersOnBothSidesConvergesToTheNewestWrite()
    {
        var cluster = await fixture.GetAsync();
        await cluster.WaitUntilHealthyAsync(ConvergenceBound);
        var minority = cluster.Nodes.Skip(3).ToList();
        // Most keys have both minority nodes among their replicas, so both sides can acknowledge
        // writes to them (the majority through hints): real conflicts for last-writer-wins to
        // settle. The rest only the majority can write.
        var keys = new List<string>();
        var (shared, majorityOnly) = (0, 0);
        for (var i = 0; (shared < 20 || majorityOnly < 10) && i < 1000; i++)
        {
            var key = $"split/{i}";
            var replicas = await cluster.LocateAsync(key);
            var both = minority.All(n => replicas.Contains(n.Id));
            if (both ? shared++ < 20 : majorityOnly++ < 10)
            {
                keys.Add(key);
            }
        }
        var (history, clients) = (new History(), ClientsOnEveryNode(cluster, keys));
        Stopwatch healed;
        DateTime cutAt, healAt;
        await using (var load = new MixedLoad(history, clients, seed: 2302))
        {
            await load.WaitForMoreAsync(10, Progress, AllClients(clients));
            cutAt = DateTime.UtcNow;
            var cut = Stopwatch.StartNew();
            // The coordinator stays with the majority, as it would on the bigger side of a real split.
            cluster.Network.Isolate([.. minority.Select(n => n.Host)]);
            foreach (var node in minority)
            {
                await WaitForStateAsync(cluster, node.Id, "suspect", TimeSpan.FromSeconds(15));
            }
            await Task.Delay(Remaining(TimeSpan.FromSeconds(10), cut));
            healAt = DateTime.UtcNow;
            cluster.Network.Heal();
            healed = Stopwatch.StartNew();
            await load.WaitForMoreAsync(10, Progress, AllClients(clients));
        }
        var finals = await ConvergeAsync(cluster, keys, healed);
        var converged = healed.Elapsed;

        var operations = history.Operations;
        Report("2 | 3 split for 10 s", history, converged);
        AssertNoErrors(HistoryChecker.CheckFinal(operations, finals));
        // Writers on both sides were acknowledged during the split, and on the same keys: LWW had conflicts to settle.
        var minorityClients = Enumerable.Range(3, minority.Count).ToHashSet();
        var acked = operations.Where(o => o.IsWrite && o.Outcome == Outcome.Ok && o.Start >= cutAt && o.End <= healAt).ToList();
        var bothSides = acked.GroupBy(o => o.Key).Count(g => g.Any(o => minorityClients.Contains(o.Client)) && g.Any(o => !minorityClients.Contains(o.Client)));
        output.WriteLine($"acknowledged writes during the split: {acked.Count(o => minorityClients.Contains(o.Client))} on the minority side, " +
            $"{acked.Count(o => !minorityClients.Contains(o.Client))} on the majority side; {bothSides} keys written on both sides");
        Assert.True(bothSides > 0, "no key was acknowledged on both sides of the split: the scenario tested nothing");
    }

    [PartitionFact]
    public async Task DeleteWhileAReplicaIsPartitionedStaysDeletedAfterHealingPastTheTombstoneGrace()
    {
        var cluster = await fixture.GetAsync();
        await cluster.WaitUntilHealthyAsync(ConvergenceBound);
        var (writer, cutOff) = (cluster.Nodes[0], cluster.Nodes[2]);
        // Keys the cut-off node is a replica of and the writer coordinates for.
        var deleted = new List<string>();
        for (var i = 0; deleted.Count < 10 && i < 1000; i++)
        {
            var key = $"deleted/{i}";
            if ((await cluster.LocateAsync(key)).Contains(cutOff.Id))
            {
                deleted.Add(key);
            }
        }
        Assert.Equal(10, deleted.Count);
        foreach (var key in deleted)
        {
            using var put = await writer.Http.PutAsync(new Uri(writer.Url, "/v1/kv/" + Uri.EscapeDataString(key) + "?w=3"), new StringContent("before-delete"));
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        var keys = Keys("delete-load", 30);
        var (history, clients) = (new History(), ClientsOnEveryNode(cluster, keys));
        Stopwatch healed;
        await using (var load = new MixedLoad(history, clients, seed: 3303))
        {
            await load.WaitForMoreAsync(5, Progress, AllClients(clients));
            var cut = Stopwatch.StartNew();
            cluster.Network.Isolate(cutOff.Host);
            foreach (var key in deleted)
            {
                using var delete = await writer.Http.DeleteAsync(new Uri(writer.Url, "/v1/kv/" + Uri.EscapeDataString(key)));
                Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
            }
            var deletedAt = DateTimeOffset.UtcNow;
            // The cut-off replica still holds the old value; it must not come back, however long it was away.
            foreach (var key in deleted)
            {
                Assert.Equal("before-delete", (await NamespacedCluster.LocalCopyAsync(cutOff, key))?.State);
            }
            await Task.Delay(PartitionClusterFixture.TombstoneGrace);
            // And at least one anti-entropy round of every node on the connected side ran after the deletes.
            await WaitForAntiEntropyRoundAsync([.. cluster.Nodes.Where(n => n != cutOff)], deletedAt);
            output.WriteLine($"replica {cutOff.Id} cut off for {cut.Elapsed.TotalSeconds:0.0} s, deletes acknowledged while it was away");
            cluster.Network.Heal();
            healed = Stopwatch.StartNew();
            await load.WaitForMoreAsync(5, Progress, AllClients(clients));
        }
        var finals = await ConvergeAsync(cluster, [.. keys, .. deleted], healed);
        var converged = healed.Elapsed;

        Report("delete while a replica is cut off", history, converged);
        foreach (var key in deleted)
        {
            Assert.True(finals[key] is null, $"{key} came back as '{finals[key]}' after the cut-off replica returned");
            foreach (var node in cluster.Nodes)
            {
                using var read = await node.Http.GetAsync(new Uri(node.Url, "/v1/kv/" + Uri.EscapeDataString(key)));
                Assert.True(read.StatusCode == HttpStatusCode.NotFound, $"{key} read through {node.Id}: {(int)read.StatusCode} {await read.Content.ReadAsStringAsync()}");
            }
        }
        AssertNoErrors(HistoryChecker.CheckFinal(history.Operations, finals.Where(f => keys.Contains(f.Key)).ToDictionary()));
    }

    [PartitionFact]
    public async Task NodePausedFor5SecondsCatchesUpAndServesNoStaleValueAtQuorum()
    {
        var cluster = await fixture.GetAsync();
        await cluster.WaitUntilHealthyAsync(ConvergenceBound);
        var keys = Keys("paused", 30);
        var paused = cluster.Nodes[1];
        var (history, clients) = (new History(), ClientsOnEveryNode(cluster, keys));
        Stopwatch resumed;
        DateTime resumedAt;
        await using (var load = new MixedLoad(history, clients, seed: 4404))
        {
            await load.WaitForMoreAsync(10, Progress, AllClients(clients));
            cluster.Pause(paused);
            try
            {
                // Shorter than the eviction grace: the node stays a member and must catch up.
                await Task.Delay(TimeSpan.FromSeconds(5));
            }
            finally
            {
                cluster.Resume(paused);
            }
            resumed = Stopwatch.StartNew();
            resumedAt = DateTime.UtcNow;
            // Reads keep going through the resumed node (its client) and the others after it wakes.
            await load.WaitForMoreAsync(40, Progress, AllClients(clients));
        }
        var finals = await ConvergeAsync(cluster, keys, resumed);
        var converged = resumed.Elapsed;

        var operations = history.Operations;
        Report("node SIGSTOPped for 5 s", history, converged);
        AssertNoErrors(HistoryChecker.CheckFinal(operations, finals));
        var afterResume = operations.Count(o => o.Kind == OperationKind.Get && o.Outcome == Outcome.Ok && o.Start >= resumedAt);
        output.WriteLine($"{afterResume} successful quorum reads after the resume checked for staleness, {operations.Count(o => o.Kind == OperationKind.Get && o.Outcome == Outcome.Ok && o.Start >= resumedAt && o.Client == 1)} of them through {paused.Id}");
        Assert.True(afterResume > 0, "no read after the resume: nothing was checked");
        AssertNoErrors(HistoryChecker.CheckReads(operations, o => o.Start >= resumedAt));
    }

    [PartitionFact]
    public async Task FaultFreeClientsReadTheirOwnAcknowledgedWritesAtQuorum()
    {
        var cluster = await fixture.GetAsync();
        await cluster.WaitUntilHealthyAsync(ConvergenceBound);
        // R + W > RF (2 + 2 > 3) and no node down: every read overlaps the last write's quorum. Each
        // client owns its keys, writes through its node and reads through the next one.
        var history = new History();
        var clients = cluster.Nodes.Select((node, i) => new LoadClient(i, cluster.CreateClient(node.Host, ClientTimeout), node.Url,
            cluster.Nodes[(i + 1) % cluster.Nodes.Count].Url, Keys($"own/{node.Id}", 5))).ToList();
        try
        {
            await using (var load = new MixedLoad(history, clients, seed: 5505, putShare: 0.45, deleteShare: 0.05))
            {
                await load.WaitForMoreAsync(150, Progress, AllClients(clients));
            }
        }
        finally
        {
            clients.ForEach(c => c.Http.Dispose());
        }
        var operations = history.Operations;
        var (fresh, total) = HistoryChecker.ReadYourWrites(operations);
        Report("fault-free", history, null);
        output.WriteLine($"read-your-writes: {fresh} of {total} reads after an own acknowledged write returned it ({100.0 * fresh / Math.Max(1, total):0.###} %)");
        Assert.True(total >= 100, $"only {total} reads followed an acknowledged write");
        Assert.Equal(total, fresh);
        AssertNoErrors(HistoryChecker.CheckReads(operations, _ => true));
        var finals = await ConvergeAsync(cluster, [.. clients.SelectMany(c => c.Keys)]);
        AssertNoErrors(HistoryChecker.CheckFinal(operations, finals));
    }

    private static TimeSpan Remaining(TimeSpan duration, Stopwatch since) => duration > since.Elapsed ? duration - since.Elapsed : TimeSpan.Zero;

    private static List<string> Keys(string prefix, int count) => [.. Enumerable.Range(0, count).Select(i => $"{prefix}/{i}")];

    private static int[] AllClients(IReadOnlyList<LoadClient> clients) => [.. Enumerable.Range(0, clients.Count)];

    /// <summary>A client on every node's side of the network, talking to that node, sharing the keys.</summary>
    private List<LoadClient> ClientsOnEveryNode(NamespacedCluster cluster, IReadOnlyList<string> keys)
    {
        var clients = cluster.Nodes.Select((node, i) => new LoadClient(i, cluster.CreateClient(node.Host, ClientTimeout), node.Url, node.Url, keys)).ToList();
        _disposables.AddRange(clients.Select(c => c.Http));
        return clients;
    }


    private static async Task WaitForStateAsync(NamespacedCluster cluster, string id, string state, TimeSpan deadline)
    {
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            var member = (await cluster.ClusterAsync()).GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == id);
            seen = member.GetProperty("state").GetString()!;
            return seen == state;
        }, deadline, () => $"the coordinator never saw {id} {state}; last state {seen}");
    }

    private static async Task WaitForAntiEntropyRoundAsync(IReadOnlyList<NamespacedNode> nodes, DateTimeOffset startedAfter)
    {
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            foreach (var node in nodes)
            {
                var status = await node.Http.GetFromJsonAsync<JsonElement>(new Uri(node.Url, "/v1/local/anti-entropy"));
                if (status.GetProperty("lastRound") is not { ValueKind: JsonValueKind.Object } round || round.GetProperty("startedAt").GetDateTimeOffset() <= startedAfter)
                {
                    seen = $"{node.Id}: last round {status.GetProperty("lastRound")}";
                    return false;
                }
            }
            return true;
        }, ConvergenceBound, () => "no anti-entropy round after the deletes: " + seen);
    }

    /// <summary>
    /// Waits until every member is up with no hint pending and every replica of every key holds the
    /// same copy (version, tombstone, value); returns that state per key (null: deleted or absent).
    /// </summary>
    private async Task<Dictionary<string, string?>> ConvergeAsync(NamespacedCluster cluster, IReadOnlyList<string> keys, Stopwatch? healed = null)
    {
        await cluster.WaitUntilHealthyAsync(ConvergenceBound, healed is null ? null : seen => output.WriteLine($"  {healed.Elapsed.TotalSeconds:0.0} s after healing: {seen}"));
        var healthyAfter = healed?.Elapsed;
        var owners = new Dictionary<string, List<NamespacedNode>>();
        foreach (var key in keys)
        {
            owners[key] = [.. (await cluster.LocateAsync(key)).Select(cluster.Node)];
        }
        var finals = new Dictionary<string, string?>(StringComparer.Ordinal);
        var pending = new HashSet<string>(keys, StringComparer.Ordinal);
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            foreach (var key in pending.ToList())
            {
                var copies = new List<LocalCopy?>();
                foreach (var node in owners[key])
                {
                    copies.Add(await NamespacedCluster.LocalCopyAsync(node, key));
                }
                if (copies.Distinct().Count() == 1)
                {
                    finals[key] = copies[0]?.State;
                    pending.Remove(key);
                }
                else
                {
                    seen = $"{key}: " + string.Join(", ", owners[key].Zip(copies, (n, c) => $"{n.Id} {c?.ToString() ?? "nothing"}"));
                }
            }
            return pending.Count == 0;
        }, ConvergenceBound, () => $"{pending.Count} of {keys.Count} keys still differ between replicas; e.g. {seen}");
        var identicalAfter = healed?.Elapsed;
        // Converged and still healthy: nothing was pending behind the copies compared.
        await cluster.WaitUntilHealthyAsync(ConvergenceBound);
        if (healed is not null)
        {
            output.WriteLine($"after healing: every member up with no hint pending at {healthyAfter!.Value.TotalSeconds:0.0} s, every replica of {keys.Count} keys identical at {identicalAfter!.Value.TotalSeconds:0.0} s");
        }
        return finals;
    }

    private void Report(string scenario, History history, TimeSpan? converged)
    {
        var operations = history.Operations;
        output.WriteLine($"shared cluster of 5 nodes started in {fixture.StartedIn?.TotalSeconds:0.0} s");
        output.WriteLine($"{scenario}: {operations.Count} operations recorded ({history.Summary()})" +
            (converged is { } c ? $"; replicas identical and hints drained {c.TotalSeconds:0.0} s after healing" : ""));
    }

    private void AssertNoErrors(IReadOnlyList<string> errors)
    {
        foreach (var error in errors.Take(5))
        {
            output.WriteLine(error);
        }
        Assert.True(errors.Count == 0, $"{errors.Count} violations; the first:\n{(errors.Count > 0 ? errors[0] : "")}");
    }
}
