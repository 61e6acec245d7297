using CsCheck;
using RingKv.Core.Ring;

namespace RingKv.Core.Tests.Ring;

public sealed class TokenRangeTests
{
    [Fact]
    public void RangeExcludesItsStartAndIncludesItsEnd()
    {
        var range = new TokenRange(10, 20);
        Assert.False(range.Contains(10));
        Assert.True(range.Contains(11));
        Assert.True(range.Contains(20));
        Assert.False(range.Contains(21));
        Assert.False(range.Contains(0));
        Assert.False(range.Contains(ulong.MaxValue));
        Assert.False(range.Wraps);
        Assert.Equal((UInt128)10, range.Size);
    }

    [Fact]
    public void RangeThatWrapsPastTheTopContainsBothEnds()
    {
        var range = new TokenRange(ulong.MaxValue - 5, 5);
        Assert.True(range.Wraps);
        Assert.False(range.Contains(ulong.MaxValue - 5));
        Assert.True(range.Contains(ulong.MaxValue - 4));
        Assert.True(range.Contains(ulong.MaxValue));
        Assert.True(range.Contains(0));
        Assert.True(range.Contains(5));
        Assert.False(range.Contains(6));
        Assert.False(range.Contains(ulong.MaxValue / 2));
        Assert.Equal((UInt128)11, range.Size);
    }

    [Fact]
    public void RangeEndingAtZeroWrapsToZeroOnly()
    {
        var range = new TokenRange(ulong.MaxValue, 0);
        Assert.True(range.Contains(0));
        Assert.False(range.Contains(ulong.MaxValue));
        Assert.False(range.Contains(1));
        Assert.Equal((UInt128)1, range.Size);
    }

    [Fact]
    public void FullRangeContainsEveryTokenAndSizeIsTwoToThe64()
    {
        Assert.True(TokenRange.Full.IsFull);
        Assert.True(new TokenRange(42, 42).IsFull);
        Gen.ULong.Sample(t => new TokenRange(42, 42).Contains(t) && TokenRange.Full.Contains(t));
        Assert.Equal((UInt128)ulong.MaxValue + 1, TokenRange.Full.Size);
        Assert.Equal(1.0, TokenRange.Full.Fraction);
    }

    [Fact]
    public void ContainsMeansClockwiseDistanceFromStartIsWithinTheSize()
    {
        // Model: t is in (s, e] iff walking clockwise from s reaches t within (e - s) steps (mod 2^64).
        Gen.Select(RingGen.Token, RingGen.Token, RingGen.Token).Sample((start, end, token) =>
        {
            var range = new TokenRange(start, end);
            var expected = start == end || (unchecked(token - start) != 0 && unchecked(token - start) <= unchecked(end - start));
            return range.Contains(token) == expected;
        });
    }

    [Fact]
    public void AdjacentRangesSplitTheRingWithoutOverlap()
    {
        Gen.Select(RingGen.Token, RingGen.Token, RingGen.Token).Where((a, b, _) => a != b).Sample((a, b, token) =>
        {
            var first = new TokenRange(a, b);
            var second = new TokenRange(b, a);
            return first.Contains(token) != second.Contains(token) && first.Size + second.Size == (UInt128)ulong.MaxValue + 1;
        });
    }
}
