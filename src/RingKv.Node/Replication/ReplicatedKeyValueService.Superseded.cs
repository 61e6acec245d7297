using RingKv.Core.Cluster;
using RingKv.Core.Versioning;
using RingKv.Node.Data;
using RingKv.Storage;

namespace RingKv.Node.Replication;

public sealed partial class ReplicatedKeyValueService
{
    /// <summary>How many times a write is re-stamped above a newer version a replica holds before it gives up.</summary>
    private const int MaxRestamps = 3;

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
        var started = time.GetTimestamp();
        for (var attempt = 0; ; attempt++)
        {
            var round = new WriteRound(this, map, replicas, required, entry);
            round.Start();
            await WaitAsync(round.Decided, options.RequestTimeout, cancellationToken);
            var (reached, acknowledged) = round.Outcome();
            if (reached)
            {
                return new WriteResult(WriteStatus.Applied, entry.Version);
            }
            if (round.Superseded == 0 || attempt == MaxRestamps || time.GetElapsedTime(started) >= options.RequestTimeout)
            {
                throw new InsufficientReplicasException("write", required, acknowledged, replicas.Count);
            }
            // The replicas' answers advanced the clock past what they kept (unless that is beyond
            // the clock bound, and then no attempt can succeed: the retries run out).
            metrics.ReplicaResponse("write", "restamped");
            entry = entry with { Version = new EntryVersion(clock.Now(), entry.Version.NodeId) };
        }
    }

    private ReplicaAnswer Stale(ReplicaTarget replica, StoredEntry entry, EntryVersion kept)
    {
        clock.TryObserve(kept.Timestamp);
        return new ReplicaAnswer(replica, entry, NotStored.Stale);
    }

    /// <param name="status">A peer's write status (internode.proto, WriteReply).</param>
    private static ReplicaAnswer NotStoredBy(ReplicaTarget replica, StoredEntry entry, int status) => status switch
    {
        0 => new ReplicaAnswer(replica, entry),
        1 => new ReplicaAnswer(replica, entry, NotStored.Stale),
        _ => new ReplicaAnswer(replica, entry, NotStored.Refused),
    };

    private static string ReplicaWriteOutcome(int status) => status switch
    {
        0 => "ack",
        1 => "stale",
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
