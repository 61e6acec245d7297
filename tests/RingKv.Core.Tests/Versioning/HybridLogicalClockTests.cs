using CsCheck;
using Microsoft.Extensions.Time.Testing;
using RingKv.Core.Versioning;

namespace RingKv.Core.Tests.Versioning;

public sealed class HybridLogicalClockTests
{
    private static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Drift = TimeSpan.FromSeconds(60);

    private static ulong Pack(DateTimeOffset wall, ulong logical = 0) =>
        ((ulong)wall.ToUnixTimeMilliseconds() << HybridLogicalClock.LogicalBits) | logical;

    [Fact]
    public void NowStrictlyIncreasesEvenWhenTheWallClockJumpsBackwards()
    {
        // Each step moves the wall clock by -10 s..+10 s (AdjustTime, like an NTP step) or not at
        // all, then reads the clock a few times.
        var steps = Gen.Select(Gen.Int[-10_000, 10_000], Gen.Bool, Gen.Int[1, 5]).Array[1, 100];
        steps.Sample(plan =>
        {
            var time = new FakeTimeProvider(Start);
            var clock = new HybridLogicalClock(time, Drift);
            var last = clock.Now();
            foreach (var (deltaMs, adjust, reads) in plan)
            {
                if (adjust)
                {
                    time.AdjustTime(time.GetUtcNow().AddMilliseconds(deltaMs));
                }
                for (var i = 0; i < reads; i++)
                {
                    var now = clock.Now();
                    Assert.True(now > last, $"Now() gave {now:x16} after {last:x16}");
                    last = now;
                }
            }
        });
    }

    [Fact]
    public void NowFollowsTheWallClockWhenItMovesForward()
    {
        var time = new FakeTimeProvider(Start);
        var clock = new HybridLogicalClock(time, Drift);
        _ = clock.Now();
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(Pack(Start.AddSeconds(5)), clock.Now());
    }

    [Fact]
    public void LogicalCounterOverflowCarriesIntoMillisecondsAndStaysMonotonic()
    {
        var clock = new HybridLogicalClock(new FakeTimeProvider(Start), Drift);
        var last = clock.Now();
        for (var i = 0; i < 70_000; i++)
        {
            var now = clock.Now();
            Assert.True(now > last);
            last = now;
        }
        Assert.Equal(Start.ToUnixTimeMilliseconds() + 1, (long)(last >> HybridLogicalClock.LogicalBits));
    }

    [Fact]
    public void AfterObservingATimestampNowIsLarger()
    {
        // Anything from a minute behind to exactly the drift bound ahead, with any logical counter.
        var gen = Gen.Select(Gen.Long[-60_000, (long)Drift.TotalMilliseconds], Gen.ULong[0, ushort.MaxValue], Gen.Bool);
        gen.Sample((offsetMs, logical, readFirst) =>
        {
            var time = new FakeTimeProvider(Start);
            var clock = new HybridLogicalClock(time, Drift);
            if (readFirst)
            {
                _ = clock.Now();
            }
            var received = Pack(Start.AddMilliseconds(offsetMs), logical);
            Assert.True(clock.TryObserve(received));
            Assert.True(clock.Last >= received);
            Assert.True(clock.Now() > received);
        });
    }

    [Fact]
    public void TimestampBeyondTheDriftBoundIsRefusedAndDoesNotMoveTheClock()
    {
        var gen = Gen.Select(Gen.Long[(long)Drift.TotalMilliseconds + 1, 100L * 365 * 24 * 3600 * 1000], Gen.ULong[0, ushort.MaxValue]);
        gen.Sample((aheadMs, logical) =>
        {
            var time = new FakeTimeProvider(Start);
            var clock = new HybridLogicalClock(time, Drift);
            var before = clock.Now();
            var received = Pack(Start.AddMilliseconds(aheadMs), logical);
            Assert.False(clock.TryObserve(received));
            Assert.Equal(before, clock.Last);
            var next = clock.Now();
            Assert.Equal(before + 1, next);
            Assert.True(next < received);
        });
    }

    [Fact]
    public void TimestampWithTheSignBitSetIsRefused()
    {
        var clock = new HybridLogicalClock(new FakeTimeProvider(Start), Drift);
        Assert.False(clock.TryObserve(ulong.MaxValue));
        Assert.Equal(0UL, clock.Last);
    }

    [Fact]
    public void NowExceedsEveryTimestampIssuedOrAcceptedWhileTheWallClockJumpsBothWaysAndRefusalsAreCounted()
    {
        // Each step: a wall-clock jump of -60 s..+10 s, then either a read or a received timestamp
        // from -90 s to +90 s of the (new) wall clock, so some fall beyond the 60 s bound.
        var steps = Gen.Select(Gen.Int[-60_000, 10_000], Gen.Bool, Gen.Long[-90_000, 90_000]).Array[1, 200];
        steps.Sample(plan =>
        {
            var time = new FakeTimeProvider(Start);
            var clock = new HybridLogicalClock(time, Drift);
            var highest = clock.Now();
            long refusals = 0;
            foreach (var (jumpMs, observe, offsetMs) in plan)
            {
                time.AdjustTime(time.GetUtcNow().AddMilliseconds(jumpMs));
                if (observe)
                {
                    var received = Pack(time.GetUtcNow().AddMilliseconds(offsetMs));
                    if (clock.TryObserve(received))
                    {
                        highest = Math.Max(highest, received);
                    }
                    else
                    {
                        refusals++;
                        Assert.True(offsetMs > Drift.TotalMilliseconds, $"refused a timestamp {offsetMs} ms ahead");
                    }
                    continue;
                }
                var now = clock.Now();
                Assert.True(now > highest, $"Now() gave {now:x16}, not above {highest:x16}");
                highest = now;
            }
            Assert.Equal(refusals, clock.Refused);
        });
    }
}
