using System.Text;
using RingKv.Node.Data;
using RingKv.Storage;

namespace RingKv.Node.Replication;

/// <summary>
/// Merges the (token, key)-ordered listings of every node into one page of the cluster's keys:
/// each key once, at its newest version, tombstones hidden.
/// </summary>
/// <remarks>
/// A node that has more entries is complete only up to the last entry it looked at; the merged
/// page is therefore cut at the smallest such position, so no key of any node is skipped.
/// </remarks>
public static class ListMerge
{
    public static KeyPage Merge(IReadOnlyList<LocalListing.Slice> slices, int limit)
    {
        ScanPosition? boundary = null;
        foreach (var slice in slices)
        {
            if (slice.More && slice.Last is { } last && (boundary is null || Compare(last, boundary.Value) < 0))
            {
                boundary = last;
            }
        }
        var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var newest = new Dictionary<string, (StoredEntry Entry, byte[] KeyBytes)>(StringComparer.Ordinal);
        foreach (var slice in slices)
        {
            foreach (var entry in slice.Entries)
            {
                var keyBytes = Encoding.UTF8.GetBytes(entry.Key);
                if (boundary is { } cut && Compare(new ScanPosition(entry.Token, keyBytes), cut) > 0)
                {
                    continue;
                }
                if (!newest.TryGetValue(entry.Key, out var seen) || entry.Version > seen.Entry.Version)
                {
                    newest[entry.Key] = (entry, keyBytes);
                }
            }
        }
        var ordered = newest.Values
            .Where(v => v.Entry.IsLive(nowMs))
            .OrderBy(v => v.Entry.Token)
            .ThenBy(v => v.KeyBytes, ByteOrder.Instance)
            .ToList();
        if (ordered.Count > limit)
        {
            var lastKept = ordered[limit - 1];
            return new KeyPage(ordered.Take(limit).Select(v => v.Entry.Key).ToList(), new ScanPosition(lastKept.Entry.Token, lastKept.KeyBytes));
        }
        return new KeyPage(ordered.Select(v => v.Entry.Key).ToList(), boundary);
    }

    private static int Compare(ScanPosition a, ScanPosition b)
    {
        var byToken = a.Token.CompareTo(b.Token);
        return byToken != 0 ? byToken : ByteOrder.Instance.Compare(a.Key, b.Key);
    }

    private sealed class ByteOrder : IComparer<byte[]?>
    {
        public static ByteOrder Instance { get; } = new();

        public int Compare(byte[]? x, byte[]? y) => (x ?? []).AsSpan().SequenceCompareTo(y ?? []);
    }
}
