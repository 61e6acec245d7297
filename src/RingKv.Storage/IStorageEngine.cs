namespace RingKv.Storage;

/// <summary>
/// A node's local store. Safe under any number of concurrent readers and writers.
/// Entries are ordered by (ring token, UTF-8 key bytes) so a token range streams in order, which
/// range transfers and per-range hash trees rely on.
/// </summary>
public interface IStorageEngine : IAsyncDisposable
{
    /// <summary><c>rocksdb</c> or <c>memory</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Stores <paramref name="entry"/> if its version is newer than the stored one (last writer
    /// wins) and the precondition holds, atomically with that check. Completes once the write is
    /// as durable as the engine's fsync setting promises.
    /// </summary>
    ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores each entry as <see cref="WriteAsync"/> does without a precondition, and completes
    /// once all of them are decided and as durable as <paramref name="durability"/> asks: one
    /// result per entry, in order. A replica applies a peer's batch this way, as one unit of the
    /// group commit instead of one task per entry.
    /// </summary>
    /// <remarks>An engine without a log to sync (memory) treats both durabilities alike.</remarks>
    async ValueTask<WriteResult[]> WriteAllAsync(IReadOnlyList<StoredEntry> entries, WriteDurability durability = WriteDurability.Synced, CancellationToken cancellationToken = default)
    {
        var writes = new Task<WriteResult>[entries.Count];
        for (var i = 0; i < writes.Length; i++)
        {
            writes[i] = WriteAsync(entries[i], WritePrecondition.None, cancellationToken).AsTask();
        }
        return await Task.WhenAll(writes).ConfigureAwait(false);
    }

    /// <summary>The stored entry, tombstones and expired entries included; callers decide what is live.</summary>
    StoredEntry? Get(string key);

    /// <summary>Entries strictly after <paramref name="after"/> in (token, key) order, up to and including <paramref name="lastToken"/>.</summary>
    IEnumerable<StoredEntry> Scan(ScanPosition after, ulong lastToken = ulong.MaxValue);

    EngineStats GetStats();

    /// <summary>
    /// Whether writes are accepted now (the disk has room, the engine is not being reopened after a
    /// failed write or sync). A write refused for either reason throws <see cref="StorageRefusedException"/>
    /// and is never acknowledged. An engine without a disk (memory) is always <see cref="StorageStatus.Healthy"/>.
    /// </summary>
    StorageStatus GetStorageStatus() => StorageStatus.Healthy;

    /// <summary>
    /// Removes every entry, tombstones included: for a node re-admitted as a new member after an
    /// eviction, whose old data must not come back as if nothing happened.
    /// </summary>
    ValueTask DeleteAllAsync();

    /// <summary>
    /// Removes every entry whose token lies in [<paramref name="firstToken"/>, <paramref name="lastToken"/>]:
    /// a node that no longer replicates a range drops it after the membership change.
    /// </summary>
    ValueTask DeleteTokensAsync(ulong firstToken, ulong lastToken);

    /// <summary>
    /// Removes each of these tombstones that is still exactly the stored entry (same key, same
    /// version, still a tombstone) when the removal is applied: atomic with concurrent writes, so a
    /// newer write that landed meanwhile is never lost. The caller decides what is safe to purge
    /// (anti-entropy, after seeing every replica hold the same tombstones); the engine only makes
    /// each removal conditional.
    /// </summary>
    /// <returns>The number of tombstones removed.</returns>
    ValueTask<long> PurgeTombstonesAsync(IReadOnlyList<StoredEntry> tombstones);
}
