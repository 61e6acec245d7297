using System.Globalization;

namespace RingKv.Core.Versioning;

/// <summary>
/// The version of a stored entry: a hybrid logical clock timestamp plus the id of the node that
/// wrote it. Totally ordered: timestamp first, node id breaks ties, so two replicas that hold
/// different versions always agree on which one wins (last writer wins).
/// </summary>
/// <remarks>
/// The timestamp packs wall-clock milliseconds in its upper 48 bits and a logical counter in its
/// lower 16 (see <see cref="HybridLogicalClock"/>). The text form, used in ETags, is
/// <c>{timestamp:x16}-{nodeId:x8}</c>: fixed width, so text order equals version order.
/// </remarks>
public readonly record struct EntryVersion(ulong Timestamp, uint NodeId) : IComparable<EntryVersion>
{
    public static EntryVersion Zero => default;

    public bool IsZero => Timestamp == 0 && NodeId == 0;

    /// <summary>Milliseconds since the Unix epoch carried by the timestamp.</summary>
    public long WallMilliseconds => (long)(Timestamp >> HybridLogicalClock.LogicalBits);

    public int CompareTo(EntryVersion other)
    {
        var byTime = Timestamp.CompareTo(other.Timestamp);
        return byTime != 0 ? byTime : NodeId.CompareTo(other.NodeId);
    }

    public static bool operator <(EntryVersion left, EntryVersion right) => left.CompareTo(right) < 0;
    public static bool operator >(EntryVersion left, EntryVersion right) => left.CompareTo(right) > 0;
    public static bool operator <=(EntryVersion left, EntryVersion right) => left.CompareTo(right) <= 0;
    public static bool operator >=(EntryVersion left, EntryVersion right) => left.CompareTo(right) >= 0;

    /// <summary>The last-writer-wins merge: the larger version. Commutative, associative, idempotent.</summary>
    public static EntryVersion Max(EntryVersion a, EntryVersion b) => a >= b ? a : b;

    public override string ToString() =>
        Timestamp.ToString("x16", CultureInfo.InvariantCulture) + "-" + NodeId.ToString("x8", CultureInfo.InvariantCulture);

    public static bool TryParse(ReadOnlySpan<char> text, out EntryVersion version)
    {
        version = default;
        if (text.Length != 25 || text[16] != '-')
        {
            return false;
        }
        if (!ulong.TryParse(text[..16], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var timestamp) ||
            !uint.TryParse(text[17..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var node))
        {
            return false;
        }
        version = new EntryVersion(timestamp, node);
        return true;
    }
}
