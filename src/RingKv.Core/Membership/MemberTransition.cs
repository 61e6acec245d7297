using RingKv.Core.Cluster;

namespace RingKv.Core.Membership;

/// <summary>
/// One change of a member's state as the failure detector judged it, with why: shown in the cluster
/// API and status, and logged at Warning: every transition is recorded with its time and reason, so an operator can tell why a node left.
/// </summary>
public sealed record MemberTransition(string NodeId, MemberState From, MemberState To, DateTimeOffset At, string Reason);
