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

    /// <summary>The stored entry, tombstones and expired entries included; callers decide what is live.</summary>
    StoredEntry? Get(string key);

    /// <summary>Entries strictly after <paramref name="after"/> in (token, key) order, up to and including <paramref name="lastToken"/>.</summary>
    IEnumerable<StoredEntry> Scan(ScanPosition after, ulong lastToken = ulong.MaxValue);

    EngineStats GetStats();

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
