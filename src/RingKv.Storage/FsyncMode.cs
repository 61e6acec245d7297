namespace RingKv.Storage;

/// <summary>How the rocksdb engine uses fsync before it acknowledges a write. See docs/API.md, "Durability".</summary>
public enum FsyncMode
{
    /// <summary>Every write is fsynced on its own before it is acknowledged. Safest, slowest.</summary>
    Always,

    /// <summary>
    /// Group commit (default): writes waiting while an fsync runs are written together and share
    /// the next fsync; each is acknowledged after its fsync. Same guarantee as Always, fewer fsyncs.
    /// </summary>
    Batch,

    /// <summary>
    /// Writes reach the write-ahead log in the OS page cache before they are acknowledged, never
    /// fsynced by us: they survive a process crash, not a power loss or kernel crash.
    /// </summary>
    Never,
}
