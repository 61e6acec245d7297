using System.Text;
using RingKv.Storage;

namespace RingKv.Cli.Backup;

/// <summary>
/// Merges replicas' copies of one token span: each key once, at its newest version (last writer
/// wins, tombstones included), in (token, UTF-8 key) order, the order every engine scans in.
/// Pure: the sources are already-read sequences, each in that order.
/// </summary>
public static class NewestMerge
{
    public static List<StoredEntry> Merge(IReadOnlyList<IReadOnlyList<StoredEntry>> sources)
    {
        ArgumentNullException.ThrowIfNull(sources);
        var newest = new Dictionary<string, StoredEntry>(StringComparer.Ordinal);
        foreach (var source in sources)
        {
            foreach (var entry in source)
            {
                if (!newest.TryGetValue(entry.Key, out var kept) || entry.Version > kept.Version)
                {
                    newest[entry.Key] = entry;
                }
            }
        }
        // Keys are ordered as UTF-8 bytes (the engines' order), which ordinal UTF-16 comparison is not.
        var merged = newest.Values.Select(e => (Entry: e, Key: Encoding.UTF8.GetBytes(e.Key))).ToList();
        merged.Sort(static (a, b) =>
        {
            var byToken = a.Entry.Token.CompareTo(b.Entry.Token);
            return byToken != 0 ? byToken : a.Key.AsSpan().SequenceCompareTo(b.Key);
        });
        return merged.Select(m => m.Entry).ToList();
    }
}
