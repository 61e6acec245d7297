using RingKv.Replication.Tests.Support;
using RingKv.Replication.Tests.Transport;

namespace RingKv.Replication.Tests;

/// <summary>Coordinated reads: R replicas first, the others after 50 ms without a quorum (speculative retry), and read repair.</summary>
public sealed class ReadTests
{
    private const string Key = "carts/3";

    [Fact]
    public async Task AReadAsksTheThirdReplicaOnlyAfterFiftyMillisecondsWithoutAQuorum()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        var entry = cluster.Entry(Key, "v1", coordinator);
        await Eventually.Completes(coordinator.PutAsync(entry, w: 3));
        // Read order: this node's own copy, then the owners in preference-list order.
        var slow = cluster[owners[1]];
        var spare = cluster[owners[2]];
        slow.Fault = Fault.Hold;

        var read = coordinator.GetAsync(Key);
        cluster.Time.Advance(TimeSpan.FromMilliseconds(49));

        Assert.False(read.IsCompleted);
        Assert.Equal(1, slow.Replica.Calls("read"));
        Assert.Equal(0, spare.Replica.Calls("read"));

        cluster.Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(entry.Version, (await Eventually.Completes(read))?.Version);
        Assert.Equal(1, spare.Replica.Calls("read"));
        slow.Replica.Release();
    }

    [Fact]
    public async Task AReadWhoseFirstReplicasAnswerAsksNoOne()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        await Eventually.Completes(coordinator.PutAsync(cluster.Entry(Key, "v1", coordinator), w: 3));

        await Eventually.Completes(coordinator.GetAsync(Key));
        cluster.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, cluster[owners[1]].Replica.Calls("read"));
        Assert.Equal(0, cluster[owners[2]].Replica.Calls("read"));
    }

    [Fact]
    public async Task ReadRepairWritesTheNewestVersionToExactlyTheReplicasThatAnsweredWithAnOlderOne()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        var v1 = cluster.Entry(Key, "v1", coordinator);
        var v2 = cluster.Entry(Key, "v2", coordinator);
        coordinator.Store(v2);
        cluster[owners[1]].Store(v2);
        cluster[owners[2]].Store(v1);

        var newest = await Eventually.Completes(coordinator.GetAsync(Key, r: 3));

        Assert.Equal(v2.Version, newest?.Version);
        await Eventually.WaitUntilAsync(() => cluster[owners[2]].Engine.Get(Key)?.Version == v2.Version,
            () => $"{owners[2]} still holds {cluster[owners[2]].Engine.Get(Key)?.Version}, not {v2.Version}");
        Assert.Equal(1, cluster[owners[2]].Replica.Calls("write"));
        Assert.Equal(0, cluster[owners[1]].Replica.Calls("write"));
    }

    [Fact]
    public async Task ReadRepairGivesTheKeyToAReplicaThatHadNoCopy()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        var v1 = cluster.Entry(Key, "v1", coordinator);
        cluster[owners[1]].Store(v1);

        var newest = await Eventually.Completes(coordinator.GetAsync(Key));

        Assert.Equal(v1.Version, newest?.Version);
        // This node's own copy is repaired too; the replica not asked is left to anti-entropy.
        await Eventually.WaitUntilAsync(() => coordinator.Engine.Get(Key)?.Version == v1.Version, () => $"{coordinator.Id} was not repaired");
        Assert.Null(cluster[owners[2]].Engine.Get(Key));
        Assert.Equal(0, cluster[owners[1]].Replica.Calls("write"));
    }

    [Fact]
    public async Task RepliesThatArriveOutOfOrderStillGiveTheNewestVersion()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        var v1 = cluster.Entry(Key, "v1", coordinator);
        var v2 = cluster.Entry(Key, "v2", coordinator);
        coordinator.Store(v1);
        cluster[owners[1]].Store(v1);
        cluster[owners[2]].Store(v2);
        cluster[owners[1]].Fault = Fault.Hold;
        cluster[owners[2]].Fault = Fault.Hold;

        var read = coordinator.GetAsync(Key, r: 3);
        cluster[owners[2]].Replica.Release();
        Assert.False(read.IsCompleted);
        cluster[owners[1]].Replica.Release();

        Assert.Equal(v2.Version, (await Eventually.Completes(read))?.Version);
    }
}
