using CsCheck;
using RingKv.Core.Versioning;

namespace RingKv.Core.Tests.Versioning;

public sealed class EntryVersionTests
{
    // Small ranges half of the time, so equal timestamps and equal node ids (the tie-break) come up often.
    private static readonly Gen<EntryVersion> Version = Gen.Select(
        Gen.Frequency((1, Gen.ULong[0, 3]), (1, Gen.ULong)),
        Gen.Frequency((1, Gen.UInt[0, 3]), (1, Gen.UInt)),
        (timestamp, node) => new EntryVersion(timestamp, node));

    [Fact]
    public void OrderIsTotalAndConsistentWithEquals()
    {
        Gen.Select(Version, Version).Sample((a, b) =>
        {
            var c = a.CompareTo(b);
            // Exactly one of <, ==, > and the reverse comparison agrees (antisymmetry).
            var oneOf = (a < b ? 1 : 0) + (a == b ? 1 : 0) + (a > b ? 1 : 0) == 1;
            var equalHashWhenEqual = c != 0 || a.GetHashCode() == b.GetHashCode();
            return oneOf && Math.Sign(c) == -Math.Sign(b.CompareTo(a)) && (c == 0) == a.Equals(b) && equalHashWhenEqual;
        });
    }

    [Fact]
    public void OrderIsTransitive()
    {
        Gen.Select(Version, Version, Version).Sample((a, b, c) => !(a <= b && b <= c) || a <= c);
    }

    [Fact]
    public void TimestampDecidesAndNodeIdBreaksTies()
    {
        Assert.True(new EntryVersion(2, 0) > new EntryVersion(1, uint.MaxValue));
        Assert.True(new EntryVersion(1, 2) > new EntryVersion(1, 1));
        Assert.True(EntryVersion.Zero.IsZero);
    }

    [Fact]
    public void LastWriterWinsMergeIsCommutativeAssociativeAndIdempotent()
    {
        Gen.Select(Version, Version, Version).Sample((a, b, c) =>
            EntryVersion.Max(a, b) == EntryVersion.Max(b, a) &&
            EntryVersion.Max(EntryVersion.Max(a, b), c) == EntryVersion.Max(a, EntryVersion.Max(b, c)) &&
            EntryVersion.Max(a, a) == a);
    }

    [Fact]
    public void MergeKeepsTheLargerOfTheTwo()
    {
        Gen.Select(Version, Version).Sample((a, b) =>
        {
            var max = EntryVersion.Max(a, b);
            return max >= a && max >= b && (max == a || max == b);
        });
    }

    [Fact]
    public void TextFormRoundTrips()
    {
        Version.Sample(v => EntryVersion.TryParse(v.ToString(), out var parsed) && parsed == v);
    }

    [Fact]
    public void TextOrderEqualsVersionOrder()
    {
        Gen.Select(Version, Version).Sample((a, b) =>
            Math.Sign(string.CompareOrdinal(a.ToString(), b.ToString())) == Math.Sign(a.CompareTo(b)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000000000000001")]
    [InlineData("0000000000000001_00000002")]
    [InlineData("000000000000000g-00000002")]
    [InlineData("0000000000000001-0000000z")]
    [InlineData("0000000000000001-000000020")]
    public void MalformedTextIsRefused(string text)
    {
        Assert.False(EntryVersion.TryParse(text, out var version));
        Assert.Equal(EntryVersion.Zero, version);
    }
}
