using RingKv.Core.Cluster;
using RingKv.Core.Versioning;
using RingKv.Node.Data;
using RingKv.Node.Internode;
using RingKv.Storage;

namespace RingKv.Node.Replication;

public sealed partial class ReplicatedKeyValueService
{
    /// <summary>How many times a write is re-stamped above a newer version a replica holds before it gives up.</summary>
    private const int MaxRestamps = 3;

    public ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, int? writeQuorum, CancellationToken cancellationToken)
    {
        // A node whose disk is full (or whose engine is being reopened) coordinates no writes: it
        // could not keep its own copy, and says so (507) rather than time out on its quorum.
        if (_local.GetStorageStatus() is { AcceptsWrites: false } storage)
        {
            throw StorageRefusedException.For(storage);
        }
        // Not an async method itself: an unconditional write (almost all of them) goes straight to
        // the quorum, without a state machine of its own.
        return precondition.Kind == PreconditionKind.None
            ? new ValueTask<WriteResult>(WriteToReplicasAsync(RequireMap(), entry, writeQuorum, cancellationToken))
            : WriteConditionallyAsync(entry, precondition, writeQuorum, cancellationToken);
    }

    private async ValueTask<WriteResult> WriteConditionallyAsync(StoredEntry entry, WritePrecondition precondition, int? writeQuorum, CancellationToken cancellationToken)
    {
        var map = RequireMap();
        // Conditional writes read at quorum first, then write: an AP store cannot make the pair
        // atomic across replicas (docs/API.md says so); on one replica the check is atomic.
        var current = await GetAsync(entry.Key, null, cancellationToken);
        if (!precondition.IsSatisfiedBy(current, _time.GetUtcNow().ToUnixTimeMilliseconds()))
        {
            return new WriteResult(WriteStatus.PreconditionFailed, current?.Version ?? default);
        }
        return await WriteToReplicasAsync(map, entry, writeQuorum, cancellationToken);
    }

    private Task<WriteResult> WriteToReplicasAsync(ClusterMap map, StoredEntry entry, int? writeQuorum, CancellationToken cancellationToken)
    {
        var (replicas, required) = WritePlan(map, entry.Token, writeQuorum);
        return WriteAtQuorumAsync(map, replicas, required, entry, cancellationToken);
    }

    /// <summary>The replicas a write of the token goes to and the acknowledgements it needs.</summary>
    private (IReadOnlyList<ReplicaTarget> Replicas, int Required) WritePlan(ClusterMap map, ulong token, int? writeQuorum)
    {
        var replicas = WriteTargets(map, token);
        var required = Math.Min(writeQuorum ?? Api.QuorumParameters.Majority(map.ReplicationFactor), Math.Max(1, map.Ring.NodeCount));
        // While members join or leave, the key's future owners get the write too and must
        // acknowledge it (Cassandra's pending endpoints): a write that lands mid-transfer is never
        // missed by the node that will own the key.
        var pending = PendingTargets(map, token, replicas);
        if (pending.Count > 0)
        {
            required += pending.Count;
            replicas = [.. replicas, .. pending];
        }
        return (replicas, required);
    }

    /// <summary>
    /// Sends the write to every replica and waits for W of them to store it. A replica that holds a
    /// newer version does not count: with clocks skewed, a write that follows another one can be
    /// stamped below it when this node has not yet seen that version (the client wrote v2 through
    /// a node whose clock is ahead, then v3 here), and acknowledging it would let v2 win. Such a
    /// replica's answer carries its clock, which is past the version it kept, so the write is
    /// re-stamped above it and sent again. A quorum write intersects the previous write's quorum,
    /// so once W replicas store it, it is newer than every write acknowledged before it began.
    /// Retries stay within one request timeout, so a client waits no longer than without them
    /// unless an attempt itself had to wait for a slow replica.
    /// </summary>
    private async Task<WriteResult> WriteAtQuorumAsync(ClusterMap map, IReadOnlyList<ReplicaTarget> replicas, int required, StoredEntry entry, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        for (var attempt = 0; ; attempt++)
        {
            var round = new WriteRound(this, map, replicas, required, entry);
            round.Start();
            await WaitAsync(round.Decided, _options.RequestTimeout, cancellationToken);
            var (reached, acknowledged) = round.Outcome();
            if (reached)
            {
                return new WriteResult(WriteStatus.Applied, entry.Version);
            }
            if (round.Superseded == 0 || attempt == MaxRestamps || _time.GetElapsedTime(started) >= _options.RequestTimeout)
            {
                throw new InsufficientReplicasException("write", required, acknowledged, replicas.Count);
            }
            // The replicas' answers advanced the clock past what they kept (unless that is beyond
            // the clock bound, and then no attempt can succeed: the retries run out).
            _metrics.ReplicaResponse("write", "restamped");
            entry = entry with { Version = new EntryVersion(_clock.Now(), entry.Version.NodeId) };
        }
    }

    /// <summary>
    /// The nodes a write goes to. With sloppy quorum (the default), an owner that is not up is
    /// replaced by the next distinct live node clockwise, which keeps the entry as a hint naming the
    /// owner and hands it off when the owner is up again (Dynamo §4.6); the hinted copy counts
    /// towards W. Without it, only live owners are written and W may not be reachable.
    /// </summary>
    private IReadOnlyList<ReplicaTarget> WriteTargets(ClusterMap map, ulong token)
    {
        var unavailable = Facts(map).Unavailable;
        if (unavailable.Count == 0)
        {
            return Replicas(map, token);
        }
        var targets = new List<ReplicaTarget>(map.ReplicationFactor);
        foreach (var entry in map.Ring.PreferenceList(token, map.ReplicationFactor, unavailable))
        {
            if (entry.IsFallback && !_options.SloppyQuorum)
            {
                continue;
            }
            targets.Add(Target(map, entry.NodeId, entry.StandsInFor));
        }
        return targets;
    }

    private List<ReplicaTarget> PendingTargets(ClusterMap map, ulong token, IReadOnlyList<ReplicaTarget> current)
    {
        if (!Facts(map).Changing)
        {
            return [];
        }
        var pending = new List<ReplicaTarget>();
        foreach (var id in map.FutureRing.PreferenceList(token, map.ReplicationFactor))
        {
            if (current.Any(r => r.NodeId == id) || map.FindMember(id) is not { State: MemberState.Joining or MemberState.Up })
            {
                continue;
            }
            pending.Add(Target(map, id));
        }
        return pending;
    }

    /// <summary>
    /// The owner looked up but did not answer (it just died, or is paused): the copy is kept as a
    /// hint on the next live node, so the write still has its replicas' worth of copies.
    /// </summary>
    private async Task<ReplicaAnswer?> FallbackAsync(ClusterMap map, ReplicaTarget replica, StoredEntry entry, string operation)
    {
        var unavailable = new HashSet<string>(Facts(map).Unavailable, StringComparer.Ordinal) { replica.NodeId };
        var fallback = map.Ring.PreferenceList(entry.Token, map.ReplicationFactor, unavailable).FirstOrDefault(e => e.StandsInFor == replica.NodeId);
        if (fallback.NodeId is null || map.FindMember(fallback.NodeId) is null)
        {
            return null;
        }
        return await TryWriteAsync(Target(map, fallback.NodeId, replica.NodeId), entry, operation);
    }

    /// <summary>One write to one replica, awaited on its own: hints, fallbacks and read repairs (a round's usual writes go through its batchers).</summary>
    private async Task<ReplicaAnswer?> TryWriteAsync(ReplicaTarget replica, StoredEntry entry, string operation)
    {
        try
        {
            if (replica.StandsInFor is { } owner)
            {
                var stored = replica.IsSelf
                    ? await _hints.AddAsync(owner, entry)
                    : await _peers.For(replica.InternodeUrl).WriteHintAsync(entry, owner) == ReplicaWriteOutcome.Applied;
                _metrics.ReplicaResponse(operation, stored ? "hinted" : "hint-refused");
                return stored ? new ReplicaAnswer(replica, entry) : null;
            }
            if (replica.IsSelf)
            {
                var result = await _local.WriteAsync(entry, WritePrecondition.None);
                return result.Status == WriteStatus.Stale ? Stale(replica, entry, result.Current) : new ReplicaAnswer(replica, entry);
            }
            var outcome = await _peers.For(replica.InternodeUrl).WriteAsync(entry);
            _metrics.ReplicaResponse(operation, MetricOutcome(outcome));
            return new ReplicaAnswer(replica, entry, NotStoredBecause(outcome));
        }
        catch (Exception ex) when (ex is ReplicaCallException or OperationCanceledException)
        {
            _metrics.ReplicaResponse(operation, FailureOutcome(ex));
            LogReplicaFailed(_logger, operation, replica.NodeId, ex.Message);
            return null;
        }
    }

    private ReplicaAnswer Stale(ReplicaTarget replica, StoredEntry entry, EntryVersion kept)
    {
        _clock.TryObserve(kept.Timestamp);
        return new ReplicaAnswer(replica, entry, NotStored.Stale);
    }

    private static NotStored NotStoredBecause(ReplicaWriteOutcome outcome) => outcome switch
    {
        ReplicaWriteOutcome.Applied => NotStored.No,
        ReplicaWriteOutcome.Stale => NotStored.Stale,
        _ => NotStored.Refused,
    };

    /// <summary>How a replica's write outcome shows in the replica-response metric.</summary>
    private static string MetricOutcome(ReplicaWriteOutcome outcome) => outcome switch
    {
        ReplicaWriteOutcome.Applied => "ack",
        ReplicaWriteOutcome.Stale => "stale",
        _ => "refused",
    };

    private enum NotStored
    {
        No,

        /// <summary>The replica holds a newer version.</summary>
        Stale,

        /// <summary>The replica refused the version as too far ahead of its clock.</summary>
        Refused,
    }
}
