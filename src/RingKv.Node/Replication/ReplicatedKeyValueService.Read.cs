using RingKv.Node.Data;
using RingKv.Storage;

namespace RingKv.Node.Replication;

public sealed partial class ReplicatedKeyValueService
{
    /// <summary>How long a read waits for its first R replicas before it asks the others too.</summary>
    private static readonly TimeSpan SpeculativeReadDelay = TimeSpan.FromMilliseconds(50);

    public async ValueTask<StoredEntry?> GetAsync(string key, int? readQuorum, CancellationToken cancellationToken)
    {
        var map = RequireMap();
        var token = Core.Hashing.KeyToken.Of(key);
        var targets = Facts(map).TargetsOf(map.Ring.PreferenceList(token, map.ReplicationFactor), this);
        // Replicas known to be down are not asked: a read must not wait for their timeouts.
        var replicas = targets.ReadOrder;
        var required = Math.Min(readQuorum ?? Api.QuorumParameters.Majority(map.ReplicationFactor), targets.All.Length);
        if (replicas.Length < required)
        {
            throw new InsufficientReplicasException("read", required, replicas.Length, map.ReplicationFactor);
        }
        // R replicas are asked first (this node's own copy first: it costs no message); the others
        // only when one of those fails or is slow (Cassandra's speculative retry). Quorum
        // intersection needs R answers, not all of them, and asking every replica made each read
        // cost a third more work on the replicas. The replica not asked is brought up to date by
        // anti-entropy, or by a later read that asks it.
        var started = _time.GetTimestamp();
        var round = new ReadRound(this, key, replicas, required);
        round.Start();
        // Without a replica in reserve there is nothing to speculate with: the first wait is the whole one.
        await WaitAsync(round.Decided, round.HasSpares ? Min(SpeculativeReadDelay, _options.RequestTimeout) : _options.RequestTimeout, cancellationToken);
        var (reached, newest, answered) = round.Outcome();
        if (!reached && round.HasSpares)
        {
            _metrics.ReplicaResponse("read", "speculative");
            round.AskTheRest();
            var left = _options.RequestTimeout - _time.GetElapsedTime(started);
            await WaitAsync(round.Decided, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
            (reached, newest, answered) = round.Outcome();
        }
        round.ArmRepair();
        if (!reached)
        {
            throw new InsufficientReplicasException("read", required, answered, replicas.Length);
        }
        return newest;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>Brings a replica that answered a read with an older version (or none) up to the newest.</summary>
    private async Task RepairAsync(ReplicaTarget replica, StoredEntry newest)
    {
        try
        {
            await TryWriteAsync(replica, newest, "read-repair");
        }
        catch (Exception ex)
        {
            LogReadRepairFailed(_logger, ex);
        }
    }

    private static StoredEntry? Newest(IEnumerable<ReplicaAnswer?> answers)
    {
        StoredEntry? newest = null;
        foreach (var answer in answers)
        {
            if (answer?.Entry is { } entry && (newest is null || entry.Version > newest.Version))
            {
                newest = entry;
            }
        }
        return newest;
    }
}
