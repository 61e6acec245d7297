using RingKv.Core.Cluster;
using RingKv.Core.Hashing;
using RingKv.Node.Data;
using RingKv.Replication.Tests.Support;
using RingKv.Replication.Tests.Transport;

namespace RingKv.Replication.Tests;

/// <summary>
/// While a node joins, the keys it will own are written to it too, and it must acknowledge them
/// beyond W (Cassandra's pending endpoints): a write landing mid-transfer is never missed.
/// </summary>
public sealed class PendingOwnerTests
{
    private const string Key = "profiles/9";

    [Fact]
    public async Task AJoiningNodeThatWillOwnTheKeyGetsTheWrite()
    {
        await using var cluster = new ReplicaCluster(nodes: 6);
        var joining = Join(cluster, "n6");
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];

        var entry = cluster.Entry(Key, "v1", coordinator);
        await Eventually.Completes(coordinator.PutAsync(entry));

        Assert.Equal(entry.Version, cluster[joining].Engine.Get(Key)?.Version);
    }

    [Fact]
    public async Task AWriteDuringAJoinNeedsThePendingOwnersAcknowledgementBeyondW()
    {
        await using var cluster = new ReplicaCluster(nodes: 6, configure: options => options.SloppyQuorum = false);
        var joining = Join(cluster, "n6");
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        cluster[owners[1]].Fault = Fault.Fail();
        cluster[joining].Fault = Fault.Fail();

        // W = 2 of the current owners would be met (this node and the third owner); W + 1 with the joining node is not.
        var error = await Assert.ThrowsAsync<InsufficientReplicasException>(() => Eventually.Completes(coordinator.PutAsync(cluster.Entry(Key, "v1", coordinator))));
        Assert.Equal(3, error.Required);

        cluster[joining].Fault = Fault.None;
        await Eventually.Completes(coordinator.PutAsync(cluster.Entry(Key, "v2", coordinator)));
    }

    /// <summary>Makes <paramref name="id"/> a joining member whose token is the key's: it will be the key's first owner.</summary>
    private static string Join(ReplicaCluster cluster, string id)
    {
        var map = cluster.Map;
        var members = map.Members.Select(m => m.Id != id ? m
            : new ClusterMember(m.Id, m.Number, m.ClientUrl, m.InternodeUrl, MemberState.Joining, [KeyToken.Of(Key)])).ToArray();
        cluster.Install(new ClusterMap(map.Epoch + 1, map.ReplicationFactor, members, map.HighestMemberNumber));
        Assert.DoesNotContain(id, cluster.OwnersOf(Key));
        Assert.Contains(id, cluster.Map.FutureRing.PreferenceList(KeyToken.Of(Key), ReplicaCluster.ReplicationFactor));
        return id;
    }
}
