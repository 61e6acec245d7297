using System.Text;
using RingKv.Storage;

namespace RingKv.Node.Data;

/// <summary>One page of a node's own entries in (token, key) order, as both the local API and the internode List RPC need it.</summary>
public static class LocalListing
{
    /// <summary>Entries one page may look at before it returns (possibly short) with a cursor: bounds the work of a sparse prefix.</summary>
    public const int ScanBudget = 100_000;

    /// <param name="Entries">Entries matching the prefix, tombstones and expired ones included.</param>
    /// <param name="Last">The last entry looked at, matching or not.</param>
    /// <param name="More">Whether entries remain after <paramref name="Last"/>.</param>
    public sealed record Slice(IReadOnlyList<StoredEntry> Entries, ScanPosition? Last, bool More);

    public static Slice Read(IStorageEngine engine, string prefix, ScanPosition after, int limit)
    {
        var entries = new List<StoredEntry>(Math.Min(limit, 1024));
        var scanned = 0;
        StoredEntry? last = null;
        foreach (var entry in engine.Scan(after))
        {
            if (entries.Count == limit || scanned == ScanBudget)
            {
                return new Slice(entries, PositionOf(last!), More: true);
            }
            scanned++;
            last = entry;
            if (entry.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                entries.Add(entry);
            }
        }
        return new Slice(entries, last is null ? null : PositionOf(last), More: false);
    }

    public static KeyPage Page(IStorageEngine engine, string prefix, ScanPosition after, int limit, long nowMs)
    {
        // Tombstones count against the page limit here, which keeps a page's work bounded; a page
        // may therefore hold fewer live keys than the limit while the cursor is not null.
        var slice = Read(engine, prefix, after, limit);
        var keys = slice.Entries.Where(e => e.IsLive(nowMs)).Select(e => e.Key).ToList();
        return new KeyPage(keys, slice.More ? slice.Last : null);
    }

    public static ScanPosition PositionOf(StoredEntry entry) => new(entry.Token, Encoding.UTF8.GetBytes(entry.Key));
}
