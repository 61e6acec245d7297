using RingKv.Core.Ring;

namespace RingKv.Cli.Backup;

/// <summary>A span of tokens [First, Last] (both included) and the replicas that hold it, best first.</summary>
public sealed record BackupPart(ulong First, ulong Last, IReadOnlyList<string> Replicas);

/// <summary>
/// How a backup divides the ring (docs/BACKUP.md): a fixed number of equal token spans, each one
/// file, whatever the cluster's size, so a resumed backup finds the same spans even if the ring
/// changed in between; and within a span, the parts that the ring's ranges give, each with its
/// preference list, which say whose copy of an entry counts. Pure: no I/O.
/// </summary>
public static class BackupPlan
{
    /// <summary>
    /// Files per backup: each span is one request (and its pages) per node, and is merged in
    /// memory, so more spans hold less at once; few enough to list, and to resume at a fine grain.
    /// </summary>
    public const int DefaultSpanCount = 128;

    /// <summary>Span <paramref name="index"/> of <paramref name="count"/> (a power of two): inclusive first and last token.</summary>
    public static (ulong First, ulong Last) Span(int index, int count)
    {
        if (count < 1 || (count & (count - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "The number of spans must be a power of two.");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        var size = ((UInt128)ulong.MaxValue + 1) / (uint)count;
        var first = (ulong)(size * (uint)index);
        var last = (ulong)((size * (uint)(index + 1)) - 1);
        return (first, last);
    }

    /// <summary>
    /// The parts of [first, last], in token order, each with the preference list of the ring range
    /// it lies in: together they cover the span exactly once.
    /// </summary>
    public static IReadOnlyList<BackupPart> Parts(ulong first, ulong last, IReadOnlyList<ReplicatedRange> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var parts = new List<BackupPart>();
        foreach (var range in ranges)
        {
            foreach (var (lo, hi) in Inclusive(range.Range))
            {
                var from = Math.Max(lo, first);
                var to = Math.Min(hi, last);
                if (from <= to)
                {
                    parts.Add(new BackupPart(from, to, range.PreferenceList));
                }
            }
        }
        parts.Sort((a, b) => a.First.CompareTo(b.First));
        return parts;
    }

    /// <summary>The part holding <paramref name="token"/>, from parts sorted by their first token (as <see cref="Parts"/> returns them).</summary>
    public static BackupPart PartOf(IReadOnlyList<BackupPart> parts, ulong token)
    {
        ArgumentNullException.ThrowIfNull(parts);
        int low = 0, high = parts.Count - 1;
        while (low < high)
        {
            var middle = (low + high + 1) / 2;
            if (parts[middle].First <= token)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }
        var part = parts[low];
        return token >= part.First && token <= part.Last
            ? part
            : throw new ArgumentOutOfRangeException(nameof(token), token, "The token lies outside every part.");
    }

    /// <summary>A ring range (start exclusive, end inclusive, may wrap) as one or two inclusive intervals.</summary>
    public static IEnumerable<(ulong First, ulong Last)> Inclusive(TokenRange range)
    {
        if (range.IsFull)
        {
            yield return (0, ulong.MaxValue);
            yield break;
        }
        if (!range.Wraps)
        {
            yield return (range.Start + 1, range.End);
            yield break;
        }
        if (range.Start != ulong.MaxValue)
        {
            yield return (range.Start + 1, ulong.MaxValue);
        }
        yield return (0, range.End);
    }
}
