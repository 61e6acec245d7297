namespace RingKv.Storage;

/// <summary>Whether a node's store can take writes now. Reads are served in every state but the short reopen.</summary>
public enum StorageState
{
    /// <summary>Writes are accepted.</summary>
    Ok,

    /// <summary>
    /// The data disk has less free space than the reserve (<c>--min-free-disk</c>), or the engine
    /// ran out of space: writes are refused (507 <c>insufficient-storage</c>) until space is freed,
    /// and accepted again without a restart.
    /// </summary>
    Full,

    /// <summary>
    /// A write or sync failed: the engine is closed and opened again from its write-ahead log, and
    /// refuses writes (and reads) until it is (503 <c>storage-recovering</c>).
    /// </summary>
    Recovering,
}

/// <param name="State">What the store accepts now.</param>
/// <param name="FreeBytes">Free bytes on the data disk at the last check; null for an engine without one (memory).</param>
/// <param name="ReserveBytes">The free space kept in reserve: below it, writes are refused.</param>
/// <param name="Reopens">Times the engine was closed and opened again after a write or sync error.</param>
/// <param name="Reason">Why writes are refused, for operators; null when they are accepted.</param>
public readonly record struct StorageStatus(StorageState State, long? FreeBytes, long ReserveBytes, long Reopens, string? Reason)
{
    /// <summary>An engine with no disk to fill (memory).</summary>
    public static StorageStatus Healthy => new(StorageState.Ok, null, 0, 0, null);

    public bool AcceptsWrites => State == StorageState.Ok;

    /// <summary>The state as the API and the heartbeat spell it: ok, full or recovering.</summary>
    public string StateName => State switch
    {
        StorageState.Full => "full",
        StorageState.Recovering => "recovering",
        _ => "ok",
    };
}
