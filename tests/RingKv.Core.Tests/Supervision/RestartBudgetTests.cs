using CsCheck;
using RingKv.Core.Supervision;

namespace RingKv.Core.Tests.Supervision;

public sealed class RestartBudgetTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheFifthExitWithinAMinuteLeavesTheProcessDown()
    {
        var budget = RestartBudget.Default();
        for (var i = 0; i < 4; i++)
        {
            Assert.True(budget.OnCrash(Start.AddSeconds(i * 10)));
        }
        Assert.False(budget.OnCrash(Start.AddSeconds(45)));
        Assert.True(budget.GaveUp);
        Assert.Equal(4, budget.Restarts);
        // Given up is final, however long after.
        Assert.False(budget.OnCrash(Start.AddHours(1)));
    }

    [Fact]
    public void ExitsSpreadWiderThanThePeriodAreAlwaysRestarted()
    {
        var budget = RestartBudget.Default();
        for (var i = 0; i < 50; i++)
        {
            Assert.True(budget.OnCrash(Start.AddSeconds(i * 16)));
        }
        Assert.False(budget.GaveUp);
    }

    [Fact]
    public void ItGivesUpExactlyWhenMaxCrashesFallWithinOnePeriod()
    {
        Gen.Int[1, 30].Array[1, 12].Sample(gaps =>
        {
            var budget = new RestartBudget(5, TimeSpan.FromSeconds(60));
            var times = new List<DateTimeOffset>();
            var at = Start;
            foreach (var gap in gaps)
            {
                at = at.AddSeconds(gap);
                times.Add(at);
                var restarted = budget.OnCrash(at);
                var expectedGiveUp = times.Select((t, i) => (t, i)).Any(x =>
                    times.Take(x.i + 1).Count(u => x.t - u < TimeSpan.FromSeconds(60)) >= 5);
                if (restarted == expectedGiveUp || budget.GaveUp != expectedGiveUp)
                {
                    return false;
                }
            }
            return true;
        });
    }

    [Fact]
    public void TheBackoffGrowsAndStaysWellInsideTheEvictionGrace()
    {
        var budget = new RestartBudget(100, TimeSpan.FromMinutes(1));
        var previous = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            budget.OnCrash(Start.AddSeconds(i));
            Assert.True(budget.Backoff >= previous);
            Assert.True(budget.Backoff <= TimeSpan.FromSeconds(4));
            previous = budget.Backoff;
        }
    }
}
