namespace RingKv.Node.Replication;

/// <summary>One replica a coordinated request goes to: this node itself, or a peer over the internode protocol.</summary>
/// <param name="StandsInFor">For a fallback of a sloppy-quorum write: the down owner whose copy it keeps as a hint.</param>
public sealed record ReplicaTarget(string NodeId, string InternodeUrl, bool IsSelf, Core.Cluster.MemberState State, string? StandsInFor = null);
