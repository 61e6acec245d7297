using RingKv.Core.Ring;
using RingKv.Node.AntiEntropy;
using RingKv.Node.Internode;
using RingKv.Replication.Tests.Support;
using RingKv.Replication.Tests.Transport;

namespace RingKv.Replication.Tests;

/// <summary>Anti-entropy's exchange (Dynamo §4.7) over the transport: hash trees compared, only what differs streamed, the newer version kept on both sides.</summary>
public sealed class ReplicaExchangeTests
{
    private static readonly TokenRange WholeRing = new(0, 0);

    [Fact]
    public async Task AnExchangeLeavesBothReplicasWithTheNewestVersionOfEveryKey()
    {
        await using var cluster = new ReplicaCluster();
        var (a, b) = (cluster["n1"], cluster["n2"]);
        var older = cluster.Entry("k1", "old", a);
        var newer = cluster.Entry("k1", "new", a);
        var onlyA = cluster.Entry("k2", "a", a);
        var onlyB = cluster.Entry("k3", "b", b);
        var shared = cluster.Entry("k4", "same", a);
        a.Store(newer);
        a.Store(onlyA);
        a.Store(shared);
        b.Store(older);
        b.Store(onlyB);
        b.Store(shared);

        var outcome = await Exchange(cluster, a, b);

        Assert.False(outcome.InSync);
        Assert.Equal(1, outcome.Pulled);
        Assert.Equal(2, outcome.Pushed);
        foreach (var node in new[] { a, b })
        {
            Assert.Equal(newer.Version, node.Engine.Get("k1")?.Version);
            Assert.Equal(onlyA.Version, node.Engine.Get("k2")?.Version);
            Assert.Equal(onlyB.Version, node.Engine.Get("k3")?.Version);
            Assert.Equal(shared.Version, node.Engine.Get("k4")?.Version);
        }
        Assert.True((await Exchange(cluster, a, b)).InSync);
    }

    [Fact]
    public async Task IdenticalReplicasExchangeTreesOnly()
    {
        await using var cluster = new ReplicaCluster();
        var (a, b) = (cluster["n1"], cluster["n2"]);
        var entry = cluster.Entry("k1", "v", a);
        a.Store(entry);
        b.Store(entry);

        var outcome = await Exchange(cluster, a, b);

        Assert.True(outcome.InSync);
        Assert.Equal(1, b.Replica.Calls("range-tree"));
        Assert.Equal(0, b.Replica.Calls("stream-range"));
    }

    [Fact]
    public async Task APeerThatFailsSurfacesAsAFailedReplicaCall()
    {
        await using var cluster = new ReplicaCluster();
        var (a, b) = (cluster["n1"], cluster["n2"]);
        b.Fault = Fault.Fail();

        var error = await Assert.ThrowsAsync<ReplicaCallException>(() => Exchange(cluster, a, b));
        Assert.Equal(ReplicaFailure.Error, error.Failure);
    }

    private static Task<ExchangeOutcome> Exchange(ReplicaCluster cluster, ReplicaCluster.ReplicaNode from, ReplicaCluster.ReplicaNode with)
    {
        var options = new AntiEntropyOptions();
        var exchange = new ReplicaExchange(from.Engine, from.Transport, from.Clock, options, from.Metrics);
        var tree = exchange.BuildLocalTree(WholeRing, CancellationToken.None);
        return Eventually.Completes(exchange.RunAsync(tree, cluster.Map.FindMember(with.Id)!, new ScanPacer(options.EntriesPerSecond, cluster.Time), CancellationToken.None));
    }
}
