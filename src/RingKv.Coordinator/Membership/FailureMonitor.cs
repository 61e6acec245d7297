using Microsoft.Extensions.Hosting;
using RingKv.Coordinator.Transfers;
using RingKv.Core.Cluster;
using RingKv.Core.Transfers;

namespace RingKv.Coordinator.Membership;

/// <summary>
/// Acts on the failure detector twice a second: publishes state changes (up, suspect, dead), and
/// evicts a dead node once the detector allows it (one at a time, never below RF live nodes, never
/// while the coordinator is warming up after a start or a pause), then plans and starts the
/// transfers that bring every range back to RF copies on distinct live nodes (issue 4, the design
/// note's Stage 2).
/// </summary>
public sealed class FailureMonitor(MembershipService membership, TransferManager transfers, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    private readonly HashSet<string> _evicting = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Tick();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private void Tick()
    {
        if (!transfers.AnyActive)
        {
            _evicting.Clear();
        }
        var verdict = membership.Detector.Evaluate(time.GetUtcNow(), membership.Map, _evicting);
        membership.ApplyTransitions(verdict.Transitions);
        foreach (var id in verdict.Evictable)
        {
            _evicting.Add(id);
            var (before, after) = membership.Evict(id, $"silent past the eviction grace period of {membership.Detector.Options.EvictionGracePeriod.TotalSeconds:0.#} s");
            var unavailable = after.Members.Where(m => m.State != MemberState.Up).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
            unavailable.Add(id);
            var plan = TransferPlanner.Plan(before.Ring, after.Ring, after.ReplicationFactor, unavailable);
            transfers.Start(plan, "re-replication after evicting " + id);
        }
    }
}
