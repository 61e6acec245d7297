namespace RingKv.Storage.Hints;

/// <param name="Pending">Hints stored and not yet removed, over all owners, with those being written (their room is taken when they are admitted).</param>
/// <param name="Bytes">Their size as <see cref="HintStoreLimits.MaxBytes"/> counts it.</param>
/// <param name="PerOwner">The backlog of every owner that has hints pending.</param>
/// <param name="Dropped">Hints refused since the store was opened because a bound was reached.</param>
/// <param name="Expired">Hints discarded since the store was opened because they outlived <see cref="HintStoreLimits.MaxAge"/>.</param>
/// <remarks>
/// Pending and bytes are recovered when the store reopens; dropped and expired count events of
/// this process, like any other metric counter.
/// </remarks>
public sealed record HintStats(
    long Pending,
    long Bytes,
    IReadOnlyDictionary<string, HintBacklog> PerOwner,
    long Dropped,
    long Expired);
