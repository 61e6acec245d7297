using System.Text.Json.Serialization;

namespace RingKv.Core.Cluster;

/// <summary>
/// Where a member is in its life in the cluster. The JSON names are persisted in the coordinator's
/// map and shown by the cluster API: never rename them.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<MemberState>))]
public enum MemberState
{
    /// <summary>Admitted, receiving its ranges; not yet on the ring, so it serves no reads.</summary>
    [JsonStringEnumMemberName("joining")]
    Joining,

    [JsonStringEnumMemberName("up")]
    Up,

    /// <summary>Heartbeats missed; still owns its ranges (writes go to fallbacks meanwhile).</summary>
    [JsonStringEnumMemberName("suspect")]
    Suspect,

    /// <summary>Considered failed; still owns its ranges until an operator or the eviction policy removes it.</summary>
    [JsonStringEnumMemberName("dead")]
    Dead,

    /// <summary>Handing its ranges off; owns them until it is removed from the map.</summary>
    [JsonStringEnumMemberName("leaving")]
    Leaving,
}
