namespace RingKv.Coordinator.Consensus;

/// <summary>
/// Where the coordinator's decisions are committed before anyone acts on them or sees them. A
/// single coordinator keeps them in its data directory (<see cref="LocalControlLog"/>); a group of
/// coordinator members replicates them through Raft (<see cref="RaftControlLog"/>), so only the
/// elected leader acts and any member can take over with the same state.
/// </summary>
public interface IControlLog : IAsyncDisposable
{
    /// <summary>The newest committed state this member has applied; null before the first one.</summary>
    ControlState? Current { get; }

    /// <summary>Raised after each state is applied, on followers as on the leader.</summary>
    event Action<ControlState>? Applied;

    /// <summary>This member's id in the group ("c1"); "coordinator" for a single one.</summary>
    string MemberId { get; }

    bool IsLeader { get; }

    /// <summary>
    /// Waits until this member leads and its state holds every committed entry, and returns a token
    /// cancelled the moment it stops leading (a new term, or a majority out of reach).
    /// </summary>
    Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken);

    /// <summary>Commits <paramref name="next"/> as the new state; throws <see cref="NotLeaderException"/> on a member that does not lead.</summary>
    Task ProposeAsync(ControlState next, CancellationToken cancellationToken);

    /// <summary>The group as this member sees it, for operators.</summary>
    GroupStatus Status();

    /// <summary>Starts the log: loads what is on disk, joins the group.</summary>
    Task StartAsync(CancellationToken cancellationToken);
}

/// <summary>This member does not lead the coordinator group: the change must be sent to the leader.</summary>
public sealed class NotLeaderException(string message) : Exception(message);

/// <param name="LeaderId">Null while there is none (an election, or no majority in reach).</param>
public sealed record GroupStatus(string MemberId, string? LeaderId, long Term, IReadOnlyList<CoordinatorMemberStatus> Members);

/// <param name="Role">leader, follower, candidate or unreachable.</param>
/// <param name="LastContactMs">Milliseconds since this member last heard from it; null for itself or never.</param>
public sealed record CoordinatorMemberStatus(string Id, string Url, string Role, long Term, long? LastContactMs);
