namespace RingKv.Core.Ring;

/// <summary>
/// One replica target of a key under a sloppy quorum (Dynamo §4.6; riak_core's apl entries tagged
/// primary or fallback). A fallback holds the write on behalf of the unavailable primary named in
/// <see cref="StandsInFor"/> and hands it back when that node returns (hinted handoff).
/// </summary>
public readonly record struct PreferenceListEntry(string NodeId, string? StandsInFor)
{
    public bool IsFallback => StandsInFor is not null;

    public static PreferenceListEntry Primary(string nodeId) => new(nodeId, null);

    public static PreferenceListEntry Fallback(string nodeId, string standsInFor) => new(nodeId, standsInFor);
}
