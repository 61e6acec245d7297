namespace RingKv.Node.AntiEntropy;

/// <summary>
/// Settings of anti-entropy, with their defaults. The defaults keep a small cluster's
/// replicas identical within about a minute of a fault healing (a round every few seconds) while
/// scanning little enough that foreground requests keep their latency.
/// </summary>
public sealed class AntiEntropyOptions
{
    /// <summary>Whether the node compares its replicas with its peers' at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Entries scanned per second at most, counting this node's scans and the scans it asks of its
    /// peers (their trees and the subranges streamed back). Default 10,000: a node holding a million
    /// entries drives about a third of them, so a round completes in under a minute, and scanning at
    /// that rate leaves a 2-core machine's foreground traffic its room (docs/PERFORMANCE.md).
    /// </summary>
    public int EntriesPerSecond { get; set; } = 10_000;

    /// <summary>
    /// Pause between the end of a round and the start of the next, and before the first one (start-up
    /// is busy enough). Default 15 s: a divergence is found within about 15 s of its cause healing plus
    /// a round, well inside the minute the convergence bound allows, and an idle cluster does not
    /// spend its CPU comparing identical trees.
    /// </summary>
    public TimeSpan PauseBetweenRounds { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The deepest hash tree a range is compared with. Default 10 (1,024 leaves): deeper trees cost
    /// more to send than they save. At most <see cref="RangeTreeDepth.Max"/>, what peers accept.
    /// </summary>
    public int MaxTreeDepth { get; set; } = RangeTreeDepth.Max;

    /// <summary>
    /// Entries per leaf the tree depth aims at, from this node's own count of the range. Default 32:
    /// a single differing key then costs about 32 entries streamed each way.
    /// </summary>
    public int LeafEntries { get; set; } = 32;

    /// <summary>
    /// Adjacent differing leaves are repaired in one stream up to this many entries (by either
    /// side's count), which bounds the memory an exchange holds. Default 4,096.
    /// </summary>
    public int MaxEntriesPerRepair { get; set; } = 4096;

    /// <summary>Deadline of one RangeTree or StreamRange call to a peer. Default 30 s.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Fails fast at start-up on a setting that cannot work, saying which and why.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(EntriesPerSecond, 1, nameof(EntriesPerSecond));
        ArgumentOutOfRangeException.ThrowIfLessThan(PauseBetweenRounds, TimeSpan.Zero, nameof(PauseBetweenRounds));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxTreeDepth, nameof(MaxTreeDepth));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxTreeDepth, RangeTreeDepth.Max, nameof(MaxTreeDepth));
        ArgumentOutOfRangeException.ThrowIfLessThan(LeafEntries, 1, nameof(LeafEntries));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEntriesPerRepair, 1, nameof(MaxEntriesPerRepair));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CallTimeout, TimeSpan.Zero, nameof(CallTimeout));
    }
}
