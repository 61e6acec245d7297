using RingKv.Coordinator.Hosting;
using RingKv.Coordinator.Membership;
using RingKv.Coordinator.Transfers;
using RingKv.Core.Cluster;

namespace RingKv.Coordinator.Changes;

/// <summary>
/// Whether the cluster is quiet enough for tombstones to be purged: nothing anywhere could still
/// carry a value older than a tombstone to a replica that no longer has it. Every member is up and
/// heartbeating (a node that was away is back and compared before anything is purged), no node
/// holds hints or runs a transfer, no membership change is queued or running, and placement
/// cleanup has finished at the current epoch (no stray copies of ranges a node no longer owns, which
/// a later change could hand back). Told to every node in its heartbeat reply; nodes check it
/// again, with the epoch and freshness of that reply, before purging (docs/ARCHITECTURE.md).
/// </summary>
public sealed class QuietCluster(
    MembershipService membership,
    TransferManager transfers,
    MembershipChanges changes,
    PlacementCleanup cleanup,
    CoordinatorOptions options)
{
    public bool IsQuiet()
    {
        var map = membership.Map;
        if (transfers.AnyActive || changes.AnyPending || cleanup.CleanedEpoch != map.Epoch)
        {
            return false;
        }
        var health = membership.Health.Snapshot();
        foreach (var member in map.Members)
        {
            if (member.State != MemberState.Up || !health.TryGetValue(member.Id, out var beat) ||
                beat.LastHeartbeatAgeMs >= options.SuspectAfter.TotalMilliseconds || beat.PendingHints != 0 || beat.Transfers != 0)
            {
                return false;
            }
        }
        return true;
    }
}
