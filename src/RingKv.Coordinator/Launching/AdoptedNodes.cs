using RingKv.Coordinator.Consensus;
using RingKv.Coordinator.Membership;

namespace RingKv.Coordinator.Launching;

/// <summary>
/// In a coordinator group, the leader supervises every node the group started, not only its own
/// children: the group commits which nodes it started and their process ids, so when the member
/// that started a node is gone, the leader sees that node's process exit (once a second) and
/// starts it again on its data directory, as the starter would have.
/// </summary>
public sealed class AdoptedNodes(MembershipService membership, NodeLauncher launcher, TimeProvider time) : LeaderService(membership.Log)
{
    protected override async Task LeadAsync(CancellationToken leadership)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        while (await timer.WaitForNextTickAsync(leadership))
        {
            var state = membership.State;
            foreach (var (id, processId) in state.Launched)
            {
                // A new leader learns of these nodes from their heartbeats, which carry no process
                // id: what it shows of them (pid, supervised) comes from the committed state.
                if (launcher.Supervises && state.Map.FindMember(id) is not null)
                {
                    if (processId > 0 && membership.Health.SinceLastHeartbeat(id) is not null && membership.Health.ProcessIdOf(id) is null)
                    {
                        membership.Health.RecordProcess(id, processId);
                    }
                    if (!membership.Health.IsSupervised(id))
                    {
                        membership.Health.RecordSupervision(id, 0, gaveUp: false);
                    }
                }
                if (state.Map.FindMember(id) is not null && !launcher.Processes.ContainsKey(id) && !launcher.IsRunning(id, processId))
                {
                    await launcher.AdoptAsync(id, leadership);
                }
            }
        }
    }
}
