namespace RingKv.Storage.Hints;

/// <summary>
/// The bounds of a node's hint store. Hints are a short-term bridge over a replica's outage, not
/// a second copy of the database: past a bound the write is not hinted, and the replicas that did
/// take it plus anti-entropy (Merkle tree repair) bring the owner up to date instead.
/// </summary>
public sealed record HintStoreLimits
{
    public static HintStoreLimits Default { get; } = new();

    /// <summary>
    /// Hints held at most, over all owners. Default 1,000,000. A hint past it is refused
    /// (<see cref="IHintStore.AddAsync"/> returns false) and counted in <see cref="HintStats.Dropped"/>.
    /// </summary>
    public long MaxHints { get; init; } = 1_000_000;

    /// <summary>
    /// Bytes held at most (encoded keys and values; RocksDB's own overhead comes on top).
    /// Default 256 MiB. A hint that would pass it is refused and counted, like <see cref="MaxHints"/>.
    /// </summary>
    public long MaxBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// How long a hint is worth replaying. Default 3 hours (Cassandra's <c>max_hint_window</c>).
    /// An older hint is discarded when a replayer reads it or <see cref="IHintStore.PurgeExpired"/>
    /// runs, and counted in <see cref="HintStats.Expired"/>. Nothing is lost by that: an owner
    /// down this long has been evicted and rebuilt by transfer, or is repaired by anti-entropy,
    /// which carries every write the hints would have.
    /// </summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromHours(3);

    /// <summary>Whether a hint created at <paramref name="createdAtMs"/> is older than <see cref="MaxAge"/> at <paramref name="nowMs"/>.</summary>
    internal bool IsExpired(long createdAtMs, long nowMs) => nowMs - createdAtMs > (long)MaxAge.TotalMilliseconds;

    /// <summary>Fails fast at start-up on a bound that would refuse every hint or never expire one.</summary>
    public void Validate()
    {
        if (MaxHints <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxHints), MaxHints, "The hint store needs room for at least one hint; set MaxHints to a positive count (default 1,000,000) or turn hinted handoff off.");
        }
        if (MaxBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBytes), MaxBytes, "The hint store needs room for at least one hint; set MaxBytes to a positive size (default 256 MiB) or turn hinted handoff off.");
        }
        if (MaxAge <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxAge), MaxAge, "Hints must live long enough to be replayed; set MaxAge to a positive duration (default 3 hours).");
        }
    }
}
