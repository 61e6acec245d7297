namespace RingKv.Storage;

/// <summary>
/// How many of a replicated write's W acknowledgements must be synced to disk before the client is
/// answered (<c>--synced-acks</c>; docs/API.md, "Durability"). Every acknowledgement means the write
/// is at least in that replica's write-ahead log, where it survives the process being killed.
/// </summary>
public enum SyncedAcks
{
    /// <summary>
    /// Default, Dynamo's "durable write": the coordinating node's own copy is synced before it
    /// counts, and the other replicas acknowledge once the write is in their log and start a sync
    /// about 10 ms later. When the coordinating node holds no copy of the key, it asks for
    /// <see cref="All"/>.
    /// </summary>
    One,

    /// <summary>Every acknowledgement is synced first, as each replica's <c>--fsync</c> setting promises.</summary>
    All,
}
