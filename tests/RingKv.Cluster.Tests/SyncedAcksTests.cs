using System.Net;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;

namespace RingKv.Cluster.Tests;

/// <summary>
/// <c>--synced-acks</c>: under <c>one</c> (the default) a node coordinating a write it holds a copy
/// of syncs its own copy, and its peers answer once the write is in their write-ahead log; under
/// <c>all</c> every peer syncs first. Either way an acknowledged copy survives its process being killed.
/// </summary>
public sealed class SyncedAcksTests
{
    private static readonly string[] Quiet = ["--anti-entropy-pause", "3600"];

    [Fact]
    public async Task PeersAnswerFromTheirLogUnlessTheCoordinatingNodeAsksForAllAndKeepEveryCopyWhenKilled()
    {
        // n1 coordinates with --synced-acks all, n2 and n3 with the default. No anti-entropy: it
        // would copy back anything a killed replica lost.
        await using var cluster = await TestCluster.StartWithArgsAsync(3, "rocksdb", [],
            id => id == "n1" ? ["--synced-acks", "all", .. Quiet] : Quiet);
        var (strict, coordinating, other) = (cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3"));

        // w=3: every replica has acknowledged each of these writes.
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(coordinating.Url, $"logged-{i}", $"v{i}", "?w=3"));
        }
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(strict.Url, $"synced-{i}", $"s{i}", "?w=3"));
        }

        // What the peers were asked for shows in their counts (scrapes are cached for a moment: waited for).
        async Task<long> CopiesAsync(TestNode node, string acknowledged) =>
            await cluster.MetricAsync(node, "ringkv_replica_copies_total", $"acknowledged=\"{acknowledged}\"");
        await Eventually.WaitUntilAsync(async () => await CopiesAsync(other, "logged") >= 100 && await CopiesAsync(strict, "logged") >= 100,
            TimeSpan.FromSeconds(10), () => "n1 and n3 did not answer n2's 100 writes from their logs");
        await Eventually.WaitUntilAsync(async () => await CopiesAsync(other, "synced") >= 20 && await CopiesAsync(coordinating, "synced") >= 20,
            TimeSpan.FromSeconds(10), () => "n2 and n3 did not sync n1's 20 writes before answering");
        Assert.Equal(0, await CopiesAsync(coordinating, "logged"));

        // Both peers of n2's writes killed at once, right after: what they answered from the log is kept.
        await Task.WhenAll(cluster.KillAsync(strict), cluster.KillAsync(other));
        await cluster.StartNodeAsync(strict);
        await cluster.StartNodeAsync(other);
        foreach (var node in new[] { strict, other })
        {
            for (var i = 0; i < 100; i++)
            {
                Assert.Equal($"v{i}", await cluster.LocalValueAsync(node, $"logged-{i}"));
            }
            for (var i = 0; i < 20; i++)
            {
                Assert.Equal($"s{i}", await cluster.LocalValueAsync(node, $"synced-{i}"));
            }
        }
    }
    [Fact]
    public async Task TheGatewaySendsAKeysWritesToItsReplicasSoEveryPeerAnswersFromItsLog()
    {
        // Five nodes: a node chosen without regard to the key holds no copy of it two times in five,
        // and then asks every replica to sync first.
        await using var cluster = await TestCluster.StartWithArgsAsync(5, "memory", [], _ => Quiet);
        const int writes = 60;
        for (var i = 0; i < writes; i++)
        {
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.CoordinatorUrl, $"via-gateway-{i}", $"v{i}", "?w=3"));
        }
        // Each write reaches two peers of the replica that coordinated it: every one of those copies
        // is counted as logged only if a replica coordinated every write.
        long logged = 0, synced = 0;
        await Eventually.WaitUntilAsync(async () =>
        {
            (logged, synced) = (0, 0);
            foreach (var node in cluster.Nodes)
            {
                logged += await cluster.MetricAsync(node, "ringkv_replica_copies_total", "acknowledged=\"logged\"");
                synced += await cluster.MetricAsync(node, "ringkv_replica_copies_total", "acknowledged=\"synced\"");
            }
            return logged + synced == 2 * writes;
        }, TimeSpan.FromSeconds(15), () => $"{logged} logged and {synced} synced copies counted, {2 * writes} expected in all");
        Assert.Equal(0, synced);
    }
}
