using RingKv.Core.Ring;

namespace RingKv.Node.AntiEntropy;

/// <summary>
/// The depth of the hash tree two replicas compare a range with. Both sides apply the same
/// <see cref="Clamp"/>, so the tree a peer returns always lines up leaf for leaf with the asker's.
/// </summary>
public static class RangeTreeDepth
{
    /// <summary>
    /// The deepest tree a node builds for a peer: 1,024 leaves, 16 KB on the wire. A peer may ask for
    /// more; it gets this, since a deeper tree would make every request cost a large allocation.
    /// </summary>
    public const int Max = 10;

    /// <summary>
    /// The requested depth, at most <see cref="Max"/> and small enough that every leaf of the range
    /// holds at least one token (<see cref="Core.AntiEntropy.MerkleTree"/> refuses empty leaves).
    /// </summary>
    public static int Clamp(TokenRange range, int requested)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requested);
        var depth = Math.Min(requested, Max);
        while (depth > 0 && range.Size < (UInt128)1 << depth)
        {
            depth--;
        }
        return depth;
    }

    /// <summary>The shallowest depth whose leaves hold about <paramref name="leafEntries"/> of <paramref name="entries"/> each.</summary>
    public static int ForEntries(long entries, int leafEntries, int maxDepth)
    {
        var depth = 0;
        while (depth < maxDepth && (long)leafEntries << depth < entries)
        {
            depth++;
        }
        return depth;
    }
}
