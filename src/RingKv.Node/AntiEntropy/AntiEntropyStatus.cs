namespace RingKv.Node.AntiEntropy;

/// <summary>
/// The document of <c>GET /v1/local/anti-entropy</c>: this node's anti-entropy, as it drives the
/// ranges it is the first live replica of.
/// </summary>
/// <param name="RoundInProgressSince">When the running round started; null between rounds.</param>
/// <param name="RangesDriven">Ranges this node drives that have had at least one completed exchange.</param>
/// <param name="OldestRangeExchangeAt">The least recent completed exchange among those ranges: every one of them was compared since.</param>
/// <param name="Ranges">Per range, its last completed exchange; only with <c>?ranges=true</c>.</param>
/// <param name="Tombstones">Tombstones held here, as counted after each round, and purged.</param>
public sealed record AntiEntropyStatus(
    string? Node,
    bool Enabled,
    int EntriesPerSecond,
    double PauseBetweenRoundsSeconds,
    long RoundsCompleted,
    DateTimeOffset? RoundInProgressSince,
    AntiEntropyRound? LastRound,
    AntiEntropyTotals Totals,
    int RangesDriven,
    DateTimeOffset? OldestRangeExchangeAt,
    IReadOnlyList<AntiEntropyRangeStatus>? Ranges,
    TombstoneStatus Tombstones);

/// <param name="Count">Tombstones at the last count; null before the first round completed.</param>
/// <param name="OldestAgeMs">Age of the oldest of them now, by its version's wall time; null when none.</param>
/// <param name="CountedAt">When the last count completed.</param>
/// <param name="GraceSeconds">How old a tombstone must be before it may be purged (--tombstone-grace).</param>
/// <param name="Purged">Tombstones purged here since the node started.</param>
/// <param name="PurgesRefused">Purges this node refused because its own view said they were not safe.</param>
/// <param name="LastRefusal">Why it last refused.</param>
public sealed record TombstoneStatus(
    long? Count,
    long? OldestAgeMs,
    DateTimeOffset? CountedAt,
    double GraceSeconds,
    long Purged,
    long PurgesRefused,
    string? LastRefusal);

/// <summary>One completed round: every range this node drives, compared with each of its live replicas.</summary>
/// <param name="RangesCompared">Ranges compared with at least one peer.</param>
/// <param name="RangesOutOfSync">Ranges where at least one peer's tree differed.</param>
/// <param name="PeerErrors">Peers that failed during the round (the rest of their ranges waited for the next one).</param>
public sealed record AntiEntropyRound(
    DateTimeOffset StartedAt,
    DateTimeOffset CompletedAt,
    double DurationMs,
    int RangesDriven,
    int RangesCompared,
    int RangesOutOfSync,
    long EntriesScanned,
    long EntriesPulled,
    long EntriesPushed,
    int PeerErrors)
{
    public long EntriesRepaired => EntriesPulled + EntriesPushed;
}

/// <summary>Since the node started, including the round in progress.</summary>
public sealed record AntiEntropyTotals(
    long RangesCompared,
    long RangesOutOfSync,
    long EntriesScanned,
    long EntriesPulled,
    long EntriesPushed,
    long PeerErrors)
{
    public long EntriesRepaired => EntriesPulled + EntriesPushed;
}

/// <param name="Range">The token range, as <c>(start, end]</c> in hex.</param>
/// <param name="InSync">Whether every live replica matched at that exchange.</param>
public sealed record AntiEntropyRangeStatus(string Range, DateTimeOffset LastExchangeAt, bool InSync);
