namespace RingKv.Storage.Hints;

/// <summary>
/// The hints a fallback node holds for replicas that were down when a write reached them
/// (sloppy quorum, hinted handoff: Dynamo §4.6). Two implementations, like the storage engines:
/// <see cref="RocksDbHintStore"/> (durable, its own database) and <see cref="MemoryHintStore"/>.
/// </summary>
/// <remarks>
/// Safe under any number of concurrent <see cref="AddAsync"/> callers together with one replayer
/// per owner (<see cref="Peek"/>, then <see cref="Remove"/> or <see cref="RemoveThrough"/> once
/// the owner acknowledged). Replay is at least once: a hint whose removal is lost in a crash is
/// replayed again, which the owner's last-writer-wins check makes harmless. Dispose only once the
/// adders and replayers have stopped, as with the storage engines.
/// </remarks>
public interface IHintStore : IAsyncDisposable
{
    /// <summary>
    /// Stores a hint for <paramref name="ownerId"/>. True once it is durable (for rocksdb: in the
    /// write-ahead log and fsynced); false when a bound of <see cref="HintStoreLimits"/> would be
    /// exceeded, counted in <see cref="HintStats.Dropped"/>: the write is then not hinted.
    /// </summary>
    /// <param name="ownerId">A node id: not empty, no NUL character (it ends the key prefix).</param>
    /// <param name="entry">The entry the owner should have received.</param>
    /// <param name="cancellationToken">Observed until the hint is queued for writing, not after.</param>
    ValueTask<bool> AddAsync(string ownerId, StoredEntry entry, CancellationToken cancellationToken = default);

    /// <summary>
    /// Up to <paramref name="max"/> hints of <paramref name="ownerId"/>, oldest first. Does not
    /// remove them, except those older than <see cref="HintStoreLimits.MaxAge"/>, which are
    /// discarded here, counted in <see cref="HintStats.Expired"/> and not returned.
    /// </summary>
    IReadOnlyList<Hint> Peek(string ownerId, int max);

    /// <summary>Removes one hint after its owner acknowledged it. False if it was already gone.</summary>
    bool Remove(Hint hint);

    /// <summary>
    /// Removes every hint of <paramref name="ownerId"/> up to and including <paramref name="sequence"/>:
    /// the acknowledgement of a replayed batch, or with <see cref="long.MaxValue"/> the end of an
    /// evicted owner's hints. Returns how many were removed.
    /// </summary>
    int RemoveThrough(string ownerId, long sequence);

    /// <summary>
    /// Discards the expired hints of every owner, also of owners that never come back to be
    /// replayed to, so they stop counting against the bounds. Meant for a periodic timer.
    /// Returns how many were discarded.
    /// </summary>
    int PurgeExpired();

    /// <summary>Owners with hints pending, in ordinal order.</summary>
    IReadOnlyList<string> Owners();

    HintStats GetStats();
}
