using RingKv.Core.Cluster;
using RingKv.Node.Data;
using RingKv.Node.Internode;
using RingKv.Replication.Tests.Support;
using RingKv.Replication.Tests.Transport;

namespace RingKv.Replication.Tests;

/// <summary>Sloppy quorum (Dynamo §4.6): where a write goes when an owner is down or does not answer, and what counts towards W.</summary>
public sealed class SloppyQuorumTests
{
    private const string Key = "users/42";

    [Fact]
    public async Task AWriteForADownOwnerIsKeptAsAHintByTheNextNodeClockwise()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        var down = owners[2];
        var fallback = cluster.FallbackOf(Key, down);
        cluster.WithState(down, MemberState.Dead);

        var entry = cluster.Entry(Key, "v1", coordinator);
        await Eventually.Completes(coordinator.PutAsync(entry, w: 3));

        Assert.Equal(0, cluster[down].Replica.Calls("write") + cluster[down].Replica.Calls("hint"));
        var hint = Assert.Single(cluster[fallback].Hints.Peek(down, 10));
        Assert.Equal(entry.Version, hint.Entry.Version);
        // The fallback keeps it as a hint only, not in its own replica.
        Assert.Null(cluster[fallback].Engine.Get(Key));
        Assert.Equal(entry.Version, cluster[owners[1]].Engine.Get(Key)?.Version);
    }

    [Fact]
    public async Task AnOwnerThatDoesNotAnswerGetsItsCopyHintedOnceTheRequestTimesOut()
    {
        await using var cluster = new ReplicaCluster();
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        var silent = owners[1];
        var fallback = cluster.FallbackOf(Key, silent);
        cluster[silent].Fault = Fault.Drop;

        var entry = cluster.Entry(Key, "v1", coordinator);
        // W = 2: this node and the third owner; the silent one is not waited for.
        await Eventually.Completes(coordinator.PutAsync(entry));
        Assert.Empty(cluster[fallback].Hints.Peek(silent, 10));

        cluster.Time.Advance(cluster.Options.RequestTimeout);

        await Eventually.WaitUntilAsync(() => cluster[fallback].Hints.Peek(silent, 10).Count == 1,
            () => $"no hint for {silent} on {fallback} after the write to it timed out");
        Assert.Equal(entry.Version, cluster[fallback].Hints.Peek(silent, 10)[0].Entry.Version);
    }

    [Fact]
    public async Task WithoutSloppyQuorumADownOwnerIsNotReplacedAndWCannotBeReached()
    {
        await using var cluster = new ReplicaCluster(configure: options => options.SloppyQuorum = false);
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        cluster.WithState(owners[2], MemberState.Dead);

        var entry = cluster.Entry(Key, "v1", coordinator);
        var error = await Assert.ThrowsAsync<InsufficientReplicasException>(() => Eventually.Completes(coordinator.PutAsync(entry, w: 3)));

        Assert.Equal(2, error.Answered);
        Assert.All(cluster.Nodes, node => Assert.Empty(node.Hints.Owners()));
    }

    [Fact]
    public async Task AnIsolatedNodesHintsForEveryOwnerCountAsOneAcknowledgement()
    {
        // Four nodes, RF 3: the one node that is not an owner of the key is the fallback of each owner.
        await using var cluster = new ReplicaCluster(nodes: 4);
        var owners = cluster.OwnersOf(Key);
        var isolated = cluster[cluster.Nodes.Select(n => n.Id).Single(id => !owners.Contains(id))];
        foreach (var owner in owners)
        {
            cluster[owner].Fault = Fault.Fail(ReplicaFailure.Timeout);
        }

        var entry = cluster.Entry(Key, "v1", isolated);
        var error = await Assert.ThrowsAsync<InsufficientReplicasException>(() => Eventually.Completes(isolated.PutAsync(entry)));

        // Three hints, one per owner, all on this node: one copy, one acknowledgement.
        Assert.Equal(owners.Order(), isolated.Hints.Owners().Order());
        Assert.Equal(1, error.Answered);
    }

    [Fact]
    public async Task TwoOwnersFallingBackToTheSameNodeCountOnce()
    {
        await using var cluster = new ReplicaCluster(nodes: 4);
        var owners = cluster.OwnersOf(Key);
        var coordinator = cluster[owners[0]];
        var spare = cluster.Nodes.Select(n => n.Id).Single(id => !owners.Contains(id));
        cluster[owners[1]].Fault = Fault.Fail();
        cluster[owners[2]].Fault = Fault.Fail();

        var entry = cluster.Entry(Key, "v1", coordinator);
        var error = await Assert.ThrowsAsync<InsufficientReplicasException>(() => Eventually.Completes(coordinator.PutAsync(entry, w: 3)));

        // The spare node keeps both hints, and counts once: with this node, two of the three required.
        Assert.Equal(2, error.Answered);
        Assert.Equal(new[] { owners[1], owners[2] }.Order(), cluster[spare].Hints.Owners().Order());
    }
}
