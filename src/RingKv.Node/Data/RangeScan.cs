using RingKv.Core.Ring;
using RingKv.Storage;

namespace RingKv.Node.Data;

/// <summary>Every entry an engine holds in a token range, in token order, with the ring's wrap-around handled.</summary>
public static class RangeScan
{
    public static IEnumerable<StoredEntry> Entries(IStorageEngine engine, TokenRange range)
    {
        if (range.IsFull)
        {
            return engine.Scan(ScanPosition.Start);
        }
        // Start is exclusive: entries from start + 1; a range starting at the top token wraps at once.
        IEnumerable<StoredEntry> FromStart(ulong last) =>
            range.Start == ulong.MaxValue ? [] : engine.Scan(ScanPosition.AtToken(range.Start + 1), last);
        return range.Wraps
            ? FromStart(ulong.MaxValue).Concat(engine.Scan(ScanPosition.Start, range.End))
            : FromStart(range.End);
    }
}
