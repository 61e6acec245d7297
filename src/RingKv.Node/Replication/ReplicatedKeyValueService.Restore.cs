using RingKv.Node.Data;
using RingKv.Storage;

namespace RingKv.Node.Replication;

public sealed partial class ReplicatedKeyValueService
{
    /// <summary>
    /// A restored entry goes to the key's replicas (fallbacks and future owners as for any write)
    /// with its own version, in one round. Unlike a client's write it is never re-stamped above a
    /// newer version a replica holds: that replica's version is the newer write, which must win,
    /// so the entry is reported as superseded (<see cref="WriteStatus.Stale"/>). Replicas that
    /// stored it meanwhile hold an older version than the superseding one; read repair and
    /// anti-entropy treat that as any stale copy.
    /// </summary>
    public async ValueTask<WriteResult> RestoreAsync(StoredEntry entry, int? writeQuorum, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var map = RequireMap();
        var (replicas, required) = WritePlan(map, entry.Token, writeQuorum);
        var round = new WriteRound(this, map, replicas, required, entry);
        round.Start();
        await WaitAsync(round.Decided, _options.RequestTimeout, cancellationToken);
        var (reached, acknowledged) = round.Outcome();
        if (reached)
        {
            return new WriteResult(WriteStatus.Applied, entry.Version);
        }
        if (round.Superseded > 0)
        {
            return new WriteResult(WriteStatus.Stale, entry.Version);
        }
        throw new InsufficientReplicasException("restore", required, acknowledged, replicas.Count);
    }
}
