using System.Text.Json.Serialization;

namespace RingKv.Node.Membership;

// The control plane between nodes and the coordinator: JSON over HTTP on the coordinator's port,
// under /internal/v1. Small and infrequent (joins, one heartbeat a second, map fetches), so plain
// JSON is the simplest thing that works and is easy to inspect with curl.

/// <summary>A node asks to be admitted. <see cref="Id"/> is the id it had (restart) or was launched with; null to get a new one.</summary>
/// <param name="RespUrl">The node's Redis-protocol URL; null when it has none (or is older than the RESP listener).</param>
public sealed record JoinRequest(string? Id, string ClientUrl, string InternodeUrl, int ProcessId, string? RespUrl = null);

/// <summary>
/// The coordinator admitted the node under this id and number (the number goes into every version
/// it writes). A node that asks as a member that was evicted is refused with 409
/// <see cref="EvictedProblemType"/> instead: it must drop its old data and join again as a new
/// member, so nothing stale or deleted comes back with it.
/// </summary>
public sealed record JoinReply(string Id, uint Number, long Epoch)
{
    public const string EvictedProblemType = "member-evicted";

    /// <summary>The member was decommissioned or its join rolled back: it stays out until an operator starts it afresh.</summary>
    public const string RemovedProblemType = "member-removed";
}

/// <summary>A node's heartbeat: who it is, the epoch it has, and its figures.</summary>
/// <param name="Tombstones">Tombstones this node held at its last count (null before the first).</param>
/// <param name="OldestTombstoneAgeMs">Age of the oldest of them by its version's wall time (null when none or not counted yet).</param>
/// <param name="Storage">ok, full (writes refused: the data disk is below its reserve or ran out) or recovering (the engine is being reopened); null from an older node.</param>
/// <param name="FreeDiskBytes">Free bytes on the data disk at the node's last check; null for the memory engine.</param>
public sealed record HeartbeatRequest(string Id, long Epoch, long Keys, long Bytes, long PendingHints, long Transfers, long? Tombstones = null, long? OldestTombstoneAgeMs = null,
    string? Storage = null, long? FreeDiskBytes = null);

/// <summary><see cref="Member"/> false: the coordinator does not know this node (evicted or never admitted): it must join again.</summary>
/// <param name="Quiet">
/// The cluster is quiet at <see cref="Epoch"/>: every member up and heartbeating, none holding
/// hints or running a transfer, no membership change queued or running, and placement cleaned up
/// at this epoch. Tombstones may be purged only while it is (docs/ARCHITECTURE.md).
/// </param>
public sealed record HeartbeatReply(long Epoch, bool Member, bool Quiet = false);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(JoinRequest))]
[JsonSerializable(typeof(JoinReply))]
[JsonSerializable(typeof(HeartbeatRequest))]
[JsonSerializable(typeof(HeartbeatReply))]
public sealed partial class ControlPlaneJsonContext : JsonSerializerContext;
