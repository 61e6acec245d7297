using RingKv.Coordinator.Consensus;
using RingKv.Coordinator.Transfers;
using RingKv.Core.Cluster;
using RingKv.Core.Transfers;

namespace RingKv.Coordinator.Membership;

/// <summary>
/// The leader acts on the failure detector twice a second: commits state changes (up, suspect,
/// dead), and evicts a dead node once the detector allows it (one at a time, never below RF live
/// nodes, never while warming up after a start, a pause or a new term), then plans and starts the
/// transfers that bring every range back to RF copies on distinct live nodes. The rebuilding an
/// eviction owes is committed with it: a leader that takes over plans it again.
/// </summary>
public sealed class FailureMonitor(MembershipService membership, TransferManager transfers, TimeProvider time) : LeaderService(membership.Log)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly HashSet<string> _evicting = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<TransferStatus>> _repairing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _retryAfter = new(StringComparer.Ordinal);

    /// <summary>A repair whose transfers failed is planned again after this long (a source may be back by then).</summary>
    public static readonly TimeSpan RepairRetry = TimeSpan.FromSeconds(10);

    protected override async Task LeadAsync(CancellationToken leadership)
    {
        // Heartbeats went to the previous leader: judge nobody until fresh ones have arrived here.
        membership.Detector.Restart();
        _evicting.Clear();
        _repairing.Clear();
        _retryAfter.Clear();
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(leadership))
        {
            await TickAsync(leadership);
        }
    }

    protected override void OnLeadershipLost()
    {
        _repairing.Clear();
        transfers.Abandon("this coordinator no longer leads the group; the new leader resumes the transfer");
    }

    private async Task TickAsync(CancellationToken leadership)
    {
        if (!transfers.AnyActive)
        {
            _evicting.Clear();
        }
        foreach (var (id, started) in _repairing.ToArray())
        {
            if (started.All(t => !t.IsActive))
            {
                _repairing.Remove(id);
                if (started.All(t => t.State == TransferState.Done))
                {
                    await membership.RepairDoneAsync(id, leadership);
                }
                else
                {
                    _retryAfter[id] = time.GetUtcNow() + RepairRetry;
                }
            }
        }
        var verdict = membership.Detector.Evaluate(time.GetUtcNow(), membership.Map, _evicting);
        await membership.ApplyTransitionsAsync(verdict.Transitions, leadership);
        foreach (var id in verdict.Evictable)
        {
            _evicting.Add(id);
            await membership.EvictAsync(id, $"silent past the eviction grace period of {membership.Detector.Options.EvictionGracePeriod.TotalSeconds:0.#} s", leadership);
        }
        // Every committed repair runs: those of evictions made here (by this monitor or an
        // operator's forced removal) and those a previous leader left unfinished.
        foreach (var repair in membership.State.Repairs)
        {
            if (!_repairing.ContainsKey(repair.EvictedId) && (!_retryAfter.TryGetValue(repair.EvictedId, out var after) || time.GetUtcNow() >= after))
            {
                StartRepair(repair);
            }
        }
    }

    /// <summary>Plans the copies an eviction lost from the map before it, against the ring as it is now.</summary>
    private void StartRepair(PendingRepair repair)
    {
        var after = membership.Map;
        var unavailable = after.Members.Where(m => m.State != MemberState.Up).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        unavailable.Add(repair.EvictedId);
        var plan = TransferPlanner.Plan(repair.Before.Ring, after.Ring, after.ReplicationFactor, unavailable);
        _repairing[repair.EvictedId] = transfers.Start(plan, "re-replication after evicting " + repair.EvictedId);
    }
}
