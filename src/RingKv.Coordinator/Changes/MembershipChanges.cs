using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RingKv.Coordinator.Consensus;
using RingKv.Coordinator.Launching;
using RingKv.Coordinator.Membership;
using RingKv.Coordinator.Transfers;
using RingKv.Core.Cluster;
using RingKv.Core.Transfers;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Security;

namespace RingKv.Coordinator.Changes;

/// <summary>
/// Staged joins and decommissions, serialized: one change at a time, the rest queued.
/// <list type="number">
/// <item>Join: the new member is <c>joining</c>; writes for its future ranges reach it as well as
/// the current owners (the write path adds the future preference list's extra members); its ranges
/// stream from current replicas and are verified range by range; only then is it <c>up</c> in a new
/// epoch, and reads go to it. Old owners drop what they no longer own later (PlacementCleanup).</item>
/// <item>Decommission: the member is <c>leaving</c> (it still serves); its ranges stream to their
/// new owners; then it is removed in a new epoch and, if this coordinator started it, stopped.</item>
/// </list>
/// A failed or cancelled change rolls back: the ring is as before, never half-applied. Only the
/// group's leader runs changes; one that takes over finds them in the committed map (members
/// <c>joining</c> or <c>leaving</c>) and runs them again.
/// </summary>
public sealed partial class MembershipChanges(
    MembershipService membership,
    TransferManager transfers,
    NodeLauncher launcher,
    TimeProvider time,
    AuditLog audit,
    ILogger<MembershipChanges> logger) : LeaderService(membership.Log)
{
    private Channel<MembershipChange> _queue = Channel.CreateUnbounded<MembershipChange>();
    private readonly ConcurrentDictionary<string, MembershipChange> _changes = new(StringComparer.Ordinal);
    private int _sequence;

    public IReadOnlyList<MembershipChange> List() => [.. _changes.Values.OrderBy(c => c.CreatedAt)];

    public bool AnyPending => _changes.Values.Any(c => c.State is ChangeState.Queued or ChangeState.Running);

    public MembershipChange Enqueue(ChangeKind kind, string nodeId)
    {
        var change = new MembershipChange("c" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture), kind, nodeId, time.GetUtcNow());
        _changes[change.Id] = change;
        Volatile.Read(ref _queue).Writer.TryWrite(change);
        LogQueued(logger, change.Id, kind, nodeId);
        return change;
    }

    /// <summary>Cancels the change a transfer belongs to; false when there is none or it already finished.</summary>
    public bool CancelByTransfer(string transferId)
    {
        var change = _changes.Values.FirstOrDefault(c => c.TransferIds.Contains(transferId));
        if (change is null || change.State is not (ChangeState.Queued or ChangeState.Running))
        {
            return false;
        }
        change.RequestCancel();
        foreach (var id in change.TransferIds)
        {
            transfers.Find(id)?.RequestCancel();
        }
        return true;
    }

    protected override async Task LeadAsync(CancellationToken leadership)
    {
        // A new leader (or a restarted coordinator) finds the changes that were under way in the
        // committed map: run them again from the start (transfers apply last-writer-wins and
        // verify, so repeating one is safe), joins before decommissions, in member order.
        var queue = Volatile.Read(ref _queue);
        var pendingIds = _changes.Values.Where(c => c.State is ChangeState.Queued).Select(c => c.NodeId).ToHashSet(StringComparer.Ordinal);
        foreach (var member in membership.Map.Members.Where(m => m.State is MemberState.Joining or MemberState.Leaving)
            .OrderBy(m => m.State == MemberState.Joining ? 0 : 1).ThenBy(m => m.Number))
        {
            if (!pendingIds.Contains(member.Id))
            {
                Enqueue(member.State == MemberState.Joining ? ChangeKind.Join : ChangeKind.Decommission, member.Id);
            }
        }
        await foreach (var change in queue.Reader.ReadAllAsync(leadership))
        {
            if (change.State != ChangeState.Queued)
            {
                continue;
            }
            change.State = ChangeState.Running;
            try
            {
                await RunAsync(change, leadership);
            }
            catch (Exception ex) when (ex is not (OperationCanceledException or NotLeaderException))
            {
                await RollBackAsync(change, ChangeState.Failed, ex.Message, leadership);
            }
            change.FinishedAt = time.GetUtcNow();
        }
    }

    /// <summary>The changes this member was running or had queued are the next leader's now.</summary>
    protected override void OnLeadershipLost()
    {
        Volatile.Write(ref _queue, Channel.CreateUnbounded<MembershipChange>());
        foreach (var change in _changes.Values.Where(c => c.State is ChangeState.Queued or ChangeState.Running))
        {
            change.State = ChangeState.Failed;
            change.Error = "this coordinator stopped leading the group; the new leader runs the change again";
            change.FinishedAt = time.GetUtcNow();
        }
    }

    private async Task RunAsync(MembershipChange change, CancellationToken stoppingToken)
    {
        var map = membership.Map;
        if (map.FindMember(change.NodeId) is not { } member)
        {
            change.State = ChangeState.Failed;
            change.Error = $"{change.NodeId} is not a member.";
            return;
        }
        if (change.Kind == ChangeKind.Decommission && member.State != MemberState.Leaving)
        {
            map = await membership.SetStateAsync(change.NodeId, MemberState.Leaving, "decommission " + change.Id, stoppingToken);
        }
        if (change.Kind == ChangeKind.Join)
        {
            map = await membership.AssignTokensAsync(change.NodeId, stoppingToken);
        }
        var unavailable = map.Members.Where(m => m.State is MemberState.Suspect or MemberState.Dead).Select(m => m.Id).ToHashSet(StringComparer.Ordinal);
        var plan = TransferPlanner.Plan(map, unavailable);
        if (plan.Unsourced.Count > 0)
        {
            await RollBackAsync(change, ChangeState.Failed, $"{plan.Unsourced.Sum(t => t.Ranges.Count)} ranges have no live source; retry when the cluster is healthy.", stoppingToken);
            return;
        }
        var started = transfers.Start(plan, $"{change.Kind.ToString().ToLowerInvariant()} {change.NodeId} ({change.Id})", change.Id);
        change.AddTransfers(started.Select(t => t.Id));
        if (change.CancelRequested)
        {
            started.ToList().ForEach(t => t.RequestCancel());
        }
        await Task.WhenAll(started.Select(t => t.Finished)).WaitAsync(stoppingToken);
        if (change.CancelRequested || started.Any(t => t.State == TransferState.Cancelled))
        {
            await RollBackAsync(change, ChangeState.Cancelled, "cancelled by an operator", stoppingToken);
            return;
        }
        if (started.FirstOrDefault(t => t.State != TransferState.Done) is { } failed)
        {
            await RollBackAsync(change, ChangeState.Failed, $"transfer {failed.Id} {failed.State.ToString().ToLowerInvariant()}: {failed.Error}", stoppingToken);
            return;
        }
        // Every range verified: switch ownership in one new epoch.
        if (change.Kind == ChangeKind.Join)
        {
            await membership.SetStateAsync(change.NodeId, MemberState.Up, "join " + change.Id + ": all ranges transferred and verified", stoppingToken);
        }
        else
        {
            await membership.RemoveAsync(change.NodeId, "decommission " + change.Id + ": all ranges handed over", stoppingToken);
            await launcher.StopAsync(change.NodeId);
        }
        change.State = ChangeState.Done;
        LogDone(logger, change.Id, change.Kind, change.NodeId);
    }

    private async Task RollBackAsync(MembershipChange change, ChangeState state, string reason, CancellationToken leadership)
    {
        change.State = state;
        change.Error = reason;
        LogRolledBack(logger, change.Id, change.Kind, change.NodeId, reason);
        audit.ChangeRolledBack(change.Id, change.Kind.ToString().ToLowerInvariant(), change.NodeId, reason);
        if (change.Kind == ChangeKind.Join)
        {
            // The joining member never owned anything: removing it restores the ring exactly.
            await membership.RemoveAsync(change.NodeId, "join rolled back: " + reason, leadership);
            await launcher.StopAsync(change.NodeId);
        }
        else
        {
            await membership.SetStateAsync(change.NodeId, MemberState.Up, "decommission rolled back: " + reason, leadership);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Membership change {Id} queued: {Kind} {NodeId}")]
    private static partial void LogQueued(ILogger logger, string id, ChangeKind kind, string nodeId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Membership change {Id} done: {Kind} {NodeId}")]
    private static partial void LogDone(ILogger logger, string id, ChangeKind kind, string nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Membership change {Id} ({Kind} {NodeId}) rolled back: {Reason}")]
    private static partial void LogRolledBack(ILogger logger, string id, ChangeKind kind, string nodeId, string reason);

}
