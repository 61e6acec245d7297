namespace RingKv.Node.Replication;

/// <summary>One replica a coordinated request goes to: this node itself, or a peer over the internode protocol.</summary>
public sealed record ReplicaTarget(string NodeId, string InternodeUrl, bool IsSelf, Core.Cluster.MemberState State);
