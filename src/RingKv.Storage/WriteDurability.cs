namespace RingKv.Storage;

/// <summary>When a write of <see cref="IStorageEngine.WriteAllAsync"/> is acknowledged.</summary>
public enum WriteDurability
{
    /// <summary>
    /// Once it is as durable as the engine's fsync setting promises: with <c>--fsync batch</c>,
    /// after the group commit's sync.
    /// </summary>
    Synced,

    /// <summary>
    /// Once it is in the write-ahead log, in the OS page cache: it survives this process being
    /// killed, not a power loss until it is synced. The engine syncs it on its own within
    /// <see cref="RocksDb.RocksDbEngine.LoggedSyncDelay"/>, or sooner with the next synced write.
    /// A replica stores a peer's copy this way when the coordinating node holds a synced copy of
    /// its own (<c>--synced-acks one</c>, docs/API.md "Durability").
    /// </summary>
    Logged,
}
