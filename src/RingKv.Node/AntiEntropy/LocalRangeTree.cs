using RingKv.Core.AntiEntropy;
using RingKv.Core.Ring;
using RingKv.Node.Data;
using RingKv.Storage;

namespace RingKv.Node.AntiEntropy;

/// <summary>
/// The hash tree of what this node's engine holds in a token range, built by one scan. What a peer
/// sends (RangeTree) and what a node compares it with are built here, so both hash entries alike.
/// </summary>
public static class LocalRangeTree
{
    private const int CancellationCheckEvery = 1024;

    public static MerkleTree Build(IStorageEngine engine, TokenRange range, int depth, CancellationToken cancellationToken, Action<StoredEntry>? visit = null)
    {
        var tree = new MerkleTree(range, depth);
        var scanned = 0;
        foreach (var entry in RangeScan.Entries(engine, range))
        {
            tree.Add(entry.Token, EntryHash(entry));
            visit?.Invoke(entry);
            if (++scanned % CancellationCheckEvery == 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }
        return tree;
    }

    /// <summary>The entry's hash as transfers digest it: key, version, tombstone flag and value bytes.</summary>
    public static ulong EntryHash(StoredEntry entry) =>
        RangeDigest.EntryHash(entry.Key, entry.Version, entry.Deleted, entry.Value);
}
