using Microsoft.Extensions.Logging;
using RingKv.Coordinator.Consensus;
using RingKv.Coordinator.Hosting;
using RingKv.Coordinator.Membership;
using RingKv.Coordinator.Transfers;
using RingKv.Core.Cluster;
using RingKv.Core.Ring;
using RingKv.Node.Internode.Protocol;

namespace RingKv.Coordinator.Changes;

/// <summary>
/// Makes every key end on exactly its RF preference-list nodes. Once the cluster is quiet (no
/// transfer running, no membership change queued) at a new epoch, and stays so for the release
/// grace period, every member drops the ranges the current map gives to others. Computed from the
/// map as it is then, not from the plan of one change, so overlapping changes (a join during an
/// eviction) leave no stray copies behind. A node refuses to drop a range it still replicates.
/// </summary>
public sealed partial class PlacementCleanup(
    MembershipService membership,
    TransferManager transfers,
    MembershipChanges changes,
    CoordinatorOptions options,
    TimeProvider time,
    ILogger<PlacementCleanup> logger) : LeaderService(membership.Log)
{
    private long _cleanedEpoch = -1;

    /// <summary>The epoch at which every member last dropped every range it does not replicate; -1 before.</summary>
    public long CleanedEpoch => Interlocked.Read(ref _cleanedEpoch);

    protected override async Task LeadAsync(CancellationToken stoppingToken)
    {
        // A new leader has not seen this epoch cleaned: it asks again (dropping is idempotent).
        Interlocked.Exchange(ref _cleanedEpoch, -1);
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var epoch = membership.Map.Epoch;
                if (epoch == _cleanedEpoch || !IsQuiet())
                {
                    continue;
                }
                await Task.Delay(options.ReleaseGracePeriod, time, stoppingToken);
                var map = membership.Map;
                if (map.Epoch != epoch || !IsQuiet())
                {
                    continue;
                }
                // Only a complete cleanup counts: a member that kept stray copies is asked again at
                // the next tick, and tombstones are not purged meanwhile (QuietCluster).
                if (await DropUnownedAsync(map, stoppingToken))
                {
                    Interlocked.Exchange(ref _cleanedEpoch, epoch);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private bool IsQuiet() => !transfers.AnyActive && !changes.AnyPending &&
        membership.Map.Members.All(m => m.State == MemberState.Up);

    /// <summary>False when some member could not be asked to drop its unowned ranges.</summary>
    private async Task<bool> DropUnownedAsync(ClusterMap map, CancellationToken stoppingToken)
    {
        var complete = true;
        var ranges = map.Ring.Ranges(map.ReplicationFactor);
        foreach (var member in map.Members)
        {
            var unowned = Merge(ranges.Where(r => !r.PreferenceList.Contains(member.Id)).Select(r => r.Range));
            if (unowned.Count == 0)
            {
                continue;
            }
            try
            {
                var client = new Internode.InternodeClient(transfers.Channel(member.InternodeUrl));
                foreach (var range in unowned)
                {
                    await client.DropRangeAsync(new DropRangeRequest { Header = new Header { Epoch = map.Epoch }, Start = range.Start, End = range.End },
                        deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: stoppingToken);
                }
                LogDropped(logger, member.Id, unowned.Count, map.Epoch);
            }
            catch (Grpc.Core.RpcException ex)
            {
                // Harmless: the copies stay until the next attempt; a node refuses to drop what it still owns.
                LogDropFailed(logger, member.Id, ex.Status.Detail);
                complete = false;
            }
        }
        return complete;
    }

    /// <summary>Joins ranges that touch (one's end is the next one's start) into one, so a node gets few drop calls.</summary>
    private static List<TokenRange> Merge(IEnumerable<TokenRange> ranges)
    {
        var merged = new List<TokenRange>();
        foreach (var range in ranges.OrderBy(r => r.Start))
        {
            if (merged.Count > 0 && merged[^1].End == range.Start)
            {
                merged[^1] = new TokenRange(merged[^1].Start, range.End);
            }
            else
            {
                merged.Add(range);
            }
        }
        return merged;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{NodeId} dropped {Ranges} ranges it does not replicate at epoch {Epoch}")]
    private static partial void LogDropped(ILogger logger, string nodeId, int ranges, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{NodeId} kept ranges it no longer replicates (asked again while the cluster stays quiet): {Reason}")]
    private static partial void LogDropFailed(ILogger logger, string nodeId, string reason);
}
