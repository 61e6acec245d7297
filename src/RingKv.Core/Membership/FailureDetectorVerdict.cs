namespace RingKv.Core.Membership;

/// <summary>What one evaluation of the <see cref="FailureDetector"/> concluded.</summary>
/// <param name="Transitions">
/// State changes to apply, in order. A member may appear twice (up to suspect, then suspect to dead)
/// so that every step is recorded.
/// </param>
/// <param name="Evictable">
/// Dead members that may be evicted now, longest silent first, already limited by the concurrent
/// eviction setting and the replication factor.
/// </param>
/// <param name="LiveMembers">Members that are <c>up</c> after the transitions.</param>
/// <param name="UnderReplicated">
/// Fewer members are up than the replication factor: some ranges cannot have RF copies on distinct
/// live nodes, and nobody is evicted until a node returns or is added (the cluster reports this
/// instead of shrinking below RF).
/// </param>
/// <param name="WarmingUpUntil">
/// Set while the detector is warming up (after a start, a pause or a clock step): until then nobody
/// becomes suspect or dead and nobody is evicted; recoveries to <c>up</c> still apply.
/// </param>
/// <param name="WarmUpReason">Set only by the evaluation that began a warm-up, so it is logged once.</param>
public sealed record FailureDetectorVerdict(
    IReadOnlyList<MemberTransition> Transitions,
    IReadOnlyList<string> Evictable,
    int LiveMembers,
    bool UnderReplicated,
    DateTimeOffset? WarmingUpUntil,
    string? WarmUpReason)
{
    public bool IsWarmingUp => WarmingUpUntil is not null;
}
