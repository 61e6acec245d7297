using System.Text.Json.Serialization;

namespace RingKv.Client;

/// <summary><c>GET /v1/cluster</c>: the cluster map and what the coordinator knows of each node.</summary>
public sealed record ClusterStatus(
    long Epoch,
    int ReplicationFactor,
    string Source,
    int? UnderReplicatedRanges,
    IReadOnlyList<ClusterNodeStatus> Nodes,
    IReadOnlyList<MemberTransitionInfo>? Transitions = null,
    string? Leader = null,
    IReadOnlyList<CoordinatorInfo>? Coordinators = null);

/// <summary>A member of the coordinator group as the answering member sees it: role leader, follower, candidate or unreachable.</summary>
public sealed record CoordinatorInfo(string Id, string Url, string Role, long Term, long? LastContactMs);

/// <summary>A node's change of state, with when and why (newest last).</summary>
public sealed record MemberTransitionInfo(string Node, string From, string To, DateTimeOffset At, string Reason);

/// <summary>One member of the cluster. Figures are null when the answer came from a node without the coordinator.</summary>
public sealed record ClusterNodeStatus(
    string Id,
    string ClientUrl,
    string InternodeUrl,
    string State,
    int Tokens,
    double Ownership,
    long? LastHeartbeatAgeMs,
    long? Keys,
    long? Bytes,
    string? RespUrl = null,
    int? Restarts = null,
    string? Supervision = null,
    string? Storage = null,
    long? FreeDiskBytes = null);

/// <summary><c>GET /v1/cluster/locate/{key}</c>: the key's preference list, in order.</summary>
public sealed record KeyLocation(string Key, string Token, IReadOnlyList<KeyReplica> Replicas);

public sealed record KeyReplica(string Id, string? ClientUrl, string? State);

/// <summary><c>POST /v1/cluster/nodes</c>: the node that was started and admitted.</summary>
public sealed record AddedNode(string Id, string ClientUrl, string InternodeUrl, string State);

/// <summary><c>GET /v1/cluster/transfers</c>.</summary>
public sealed record TransferList(IReadOnlyList<TransferInfo> Transfers);

/// <summary>One data transfer of a membership change: where it goes, how far it got.</summary>
public sealed record TransferInfo(
    string Id,
    string State,
    string Reason,
    string Destination,
    IReadOnlyList<string> Sources,
    int RangesTotal,
    int RangesDone,
    long Keys,
    long Bytes,
    double KeysPerSecond,
    string? Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TransferList))]
[JsonSerializable(typeof(ClusterStatus))]
[JsonSerializable(typeof(KeyLocation))]
[JsonSerializable(typeof(AddedNode))]
internal sealed partial class ClientJsonContext : JsonSerializerContext;
