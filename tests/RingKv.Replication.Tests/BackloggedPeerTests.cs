using RingKv.Replication.Tests.Support;
using RingKv.Replication.Tests.Transport;

namespace RingKv.Replication.Tests;

/// <summary>A peer too slow for the write rate gets no more writes until it catches up: they count as failed, and a fallback keeps a hint.</summary>
public sealed class BackloggedPeerTests
{
    private const string Key = "events/1";

    [Fact]
    public async Task AWriteToABackloggedPeerIsNotSentAndItsCopyIsHintedElsewhere()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        var backlogged = owners[1];
        var fallback = cluster.FallbackOf(Key, backlogged);
        cluster[backlogged].Fault = Fault.Backlogged;

        var entry = cluster.Entry(Key, "v1", coordinator);
        await Eventually.Completes(coordinator.PutAsync(entry, w: 3));

        Assert.Null(cluster[backlogged].Engine.Get(Key));
        Assert.Equal(entry.Version, Assert.Single(cluster[fallback].Hints.Peek(backlogged, 10)).Entry.Version);
        Assert.Equal(entry.Version, cluster[owners[2]].Engine.Get(Key)?.Version);
    }

    [Fact]
    public async Task WithoutSloppyQuorumABackloggedPeerCountsAsAFailedReplica()
    {
        await using var cluster = new ReplicaCluster(configure: options => options.SloppyQuorum = false);
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        cluster[owners[1]].Fault = Fault.Backlogged;

        await Eventually.Completes(coordinator.PutAsync(cluster.Entry(Key, "v1", coordinator)));
        await Assert.ThrowsAsync<Node.Data.InsufficientReplicasException>(() => Eventually.Completes(coordinator.PutAsync(cluster.Entry(Key, "v2", coordinator), w: 3)));
        Assert.All(cluster.Nodes, node => Assert.Empty(node.Hints.Owners()));
    }
}
