using Microsoft.Extensions.Logging.Abstractions;
using RingKv.Core.Cluster;
using RingKv.Node.Replication;
using RingKv.Replication.Tests.Support;
using RingKv.Replication.Tests.Transport;

namespace RingKv.Replication.Tests;

/// <summary>Hinted handoff (Dynamo §4.6): a fallback replays its hints once a second to owners that are up again, and deletes them once acknowledged.</summary>
public sealed class HintedHandoffTests
{
    private const string Key = "sessions/5";

    [Fact]
    public async Task HintsWaitWhileTheOwnerIsDownAndAreHandedOffOnceItIsUp()
    {
        await using var cluster = new ReplicaCluster();
        var (owner, fallback, entry) = await HintedWriteAsync(cluster);
        // A hint for an owner that is up, so the test sees when a tick has run.
        var up = cluster.Nodes.First(n => n.Id != owner && n.Id != fallback);
        await cluster[fallback].Hints.AddAsync(up.Id, ReplicaCluster.Entry("other", "v1", entry.Version));
        using var handoff = Start(cluster, cluster[fallback]);

        await UntilAsync(cluster, () => cluster[fallback].Hints.Peek(up.Id, 10).Count == 0, () => $"{fallback} did not hand off to {up.Id}, which is up");
        Assert.Equal(0, cluster[owner].Replica.Calls("write"));
        Assert.Single(cluster[fallback].Hints.Peek(owner, 10));

        cluster.WithState(owner, MemberState.Up);

        await UntilAsync(cluster, () => cluster[fallback].Hints.Peek(owner, 10).Count == 0, () => $"{fallback} still holds its hint for {owner}");
        Assert.Equal(entry.Version, cluster[owner].Engine.Get(Key)?.Version);
        await handoff.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AHandoffThatFailsKeepsTheHintsForTheNextTick()
    {
        await using var cluster = new ReplicaCluster();
        var (owner, fallback, entry) = await HintedWriteAsync(cluster);
        using var handoff = Start(cluster, cluster[fallback]);
        cluster.WithState(owner, MemberState.Up);
        cluster[owner].Fault = Fault.Fail();

        await UntilAsync(cluster, () => cluster[owner].Replica.Calls("write") >= 2, () => $"no handoff was tried to {owner}");
        Assert.Single(cluster[fallback].Hints.Peek(owner, 10));

        cluster[owner].Fault = Fault.None;

        await UntilAsync(cluster, () => cluster[fallback].Hints.Peek(owner, 10).Count == 0, () => $"{fallback} still holds its hint for {owner}");
        Assert.Equal(entry.Version, cluster[owner].Engine.Get(Key)?.Version);
        await handoff.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AHintStoreThatFailsDoesNotStopTheHandoff()
    {
        await using var cluster = new ReplicaCluster();
        var (owner, fallback, entry) = await HintedWriteAsync(cluster);
        // Its disk is full for three ticks: the store throws, as RocksDB does, and then recovers.
        var failing = new FailingHintStore(cluster[fallback].Hints, failures: 3);
        var handoff = new HintedHandoff(failing, cluster[fallback].Engine, cluster[fallback].View, cluster[fallback].Transport, cluster.Time, NullLogger<HintedHandoff>.Instance);
        await handoff.StartAsync(CancellationToken.None);
        cluster.WithState(owner, MemberState.Up);

        await UntilAsync(cluster, () => cluster[fallback].Hints.Peek(owner, 10).Count == 0, () => $"{fallback} still holds its hint for {owner} after {failing.Failed} failed ticks");
        Assert.Equal(3, failing.Failed);
        Assert.Equal(entry.Version, cluster[owner].Engine.Get(Key)?.Version);
        Assert.False(handoff.ExecuteTask?.IsFaulted, handoff.ExecuteTask?.Exception?.ToString());
        await handoff.StopAsync(CancellationToken.None);
        handoff.Dispose();
    }

    /// <summary>A hint store whose first <c>PurgeExpired</c> calls fail as a full disk does.</summary>
    private sealed class FailingHintStore(Storage.Hints.IHintStore inner, int failures) : Storage.Hints.IHintStore
    {
        private int _failed;

        public int Failed => Volatile.Read(ref _failed);

        public int PurgeExpired()
        {
            // Called by the handoff's one loop only.
            if (Volatile.Read(ref _failed) < failures)
            {
                Interlocked.Increment(ref _failed);
                throw new IOException("No space left on device");
            }
            return inner.PurgeExpired();
        }

        public ValueTask<bool> AddAsync(string ownerId, Storage.StoredEntry entry, CancellationToken cancellationToken = default) => inner.AddAsync(ownerId, entry, cancellationToken);

        public IReadOnlyList<Storage.Hints.Hint> Peek(string ownerId, int max) => inner.Peek(ownerId, max);

        public bool Remove(Storage.Hints.Hint hint) => inner.Remove(hint);

        public int RemoveThrough(string ownerId, long sequence) => inner.RemoveThrough(ownerId, sequence);

        public IReadOnlyList<string> Owners() => inner.Owners();

        public Storage.Hints.HintStats GetStats() => inner.GetStats();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A write while one owner is down: its copy is a hint on the fallback.</summary>
    private static async Task<(string Owner, string Fallback, Storage.StoredEntry Entry)> HintedWriteAsync(ReplicaCluster cluster)
    {
        var owners = cluster.OwnersOf(Key);
        var owner = owners[2];
        var fallback = cluster.FallbackOf(Key, owner);
        cluster.WithState(owner, MemberState.Dead);
        var entry = cluster.Entry(Key, "v1", cluster[owners[0]]);
        await Eventually.Completes(cluster[owners[0]].PutAsync(entry, w: 3));
        Assert.Single(cluster[fallback].Hints.Peek(owner, 10));
        return (owner, fallback, entry);
    }

    /// <summary>
    /// Moves the clock a tick at a time until <paramref name="condition"/> holds: the loop starts on
    /// a thread of its own, so the test cannot know when its timer exists and advance just once.
    /// </summary>
    private static Task UntilAsync(ReplicaCluster cluster, Func<bool> condition, Func<string> context) =>
        Eventually.WaitUntilAsync(() =>
        {
            if (condition())
            {
                return true;
            }
            cluster.Time.Advance(TimeSpan.FromSeconds(1));
            return false;
        }, context);

    private static HintedHandoff Start(ReplicaCluster cluster, ReplicaCluster.ReplicaNode node)
    {
        var handoff = new HintedHandoff(node.Hints, node.Engine, node.View, node.Transport, cluster.Time, NullLogger<HintedHandoff>.Instance);
        handoff.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        return handoff;
    }
}
