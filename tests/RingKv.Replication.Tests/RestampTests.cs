using RingKv.Node.Data;
using RingKv.Node.Internode;
using RingKv.Replication.Tests.Support;

namespace RingKv.Replication.Tests;

/// <summary>
/// A write stamped below a version a replica already holds (the coordinator's clock is behind the
/// node that wrote it) does not count there: it is re-stamped above the version the replicas
/// reported and sent again, a bounded number of times.
/// </summary>
public sealed class RestampTests
{
    private const string Key = "orders/7";

    [Fact]
    public async Task AWriteBelowTheVersionTheReplicasHoldIsRestampedAboveItAndStored()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        // v1 was written through a node whose clock runs a second ahead; this node has not seen it.
        var ahead = ReplicaCluster.Entry(Key, "v1", cluster.VersionAhead(TimeSpan.FromSeconds(1), cluster[owners[1]].Number));
        cluster[owners[1]].Store(ahead);
        cluster[owners[2]].Store(ahead);

        var v2 = cluster.Entry(Key, "v2", coordinator);
        Assert.True(v2.Version < ahead.Version);
        var result = await Eventually.Completes(coordinator.PutAsync(v2));

        Assert.True(result.Current > ahead.Version, $"acknowledged {result.Current}, not above the version kept, {ahead.Version}");
        Assert.Equal(result.Current, coordinator.Engine.Get(Key)?.Version);
        Assert.Contains(owners.Skip(1), owner => cluster[owner].Engine.Get(Key)?.Version == result.Current);
        Assert.Equal(2, cluster[owners[1]].Replica.Calls("write"));
    }

    [Fact]
    public async Task AWriteStillStaleAfterThreeRestampsFails()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        foreach (var owner in owners.Skip(1))
        {
            cluster[owner].Replica.WriteOverride = _ => ReplicaWriteOutcome.Stale;
        }

        var entry = cluster.Entry(Key, "v1", coordinator);
        await Assert.ThrowsAsync<InsufficientReplicasException>(() => Eventually.Completes(coordinator.PutAsync(entry)));

        // The first attempt and three re-stamps: four writes to each peer, each with a newer version.
        Assert.All(owners.Skip(1), owner => Assert.Equal(4, cluster[owner].Replica.Calls("write")));
        Assert.True(coordinator.Engine.Get(Key)!.Version > entry.Version);
    }
}
