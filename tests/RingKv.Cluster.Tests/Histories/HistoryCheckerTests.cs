namespace RingKv.Cluster.Tests.Histories;

/// <summary>The checker itself, on small handcrafted histories: it must catch what the partition tests rely on it to catch.</summary>
public sealed class HistoryCheckerTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private long _sequence;

    private Operation Put(string key, string value, int startMs, int endMs, Outcome outcome = Outcome.Ok, bool openEnded = false, int client = 1) =>
        new(++_sequence, client, OperationKind.Put, key, value, At(startMs), At(endMs), outcome, openEnded, null, "test");

    private Operation Delete(string key, int startMs, int endMs, Outcome outcome = Outcome.Ok, bool openEnded = false, int client = 1) =>
        new(++_sequence, client, OperationKind.Delete, key, null, At(startMs), At(endMs), outcome, openEnded, null, "test");

    private Operation Get(string key, string? observed, int startMs, int endMs, int client = 1) =>
        new(++_sequence, client, OperationKind.Get, key, null, At(startMs), At(endMs), Outcome.Ok, false, observed, "test");

    private static DateTime At(int ms) => T0.AddMilliseconds(ms);

    private static Dictionary<string, string?> Final(string key, string? state) => new(StringComparer.Ordinal) { [key] = state };

    [Fact]
    public void AcceptsTheLastAcknowledgedWrite()
    {
        var history = new[] { Put("k", "a", 0, 10), Put("k", "b", 20, 30) };
        Assert.Empty(HistoryChecker.CheckFinal(history, Final("k", "b")));
    }

    [Fact]
    public void CatchesALostAcknowledgedWrite()
    {
        var history = new[] { Put("k", "a", 0, 10), Put("k", "b", 20, 30) };
        var error = Assert.Single(HistoryChecker.CheckFinal(history, Final("k", "a")));
        Assert.Contains("acknowledged write lost", error, StringComparison.Ordinal);
        Assert.Contains("k=b", error, StringComparison.Ordinal);
    }

    [Fact]
    public void CatchesAPhantomValue()
    {
        var history = new[] { Put("k", "a", 0, 10) };
        var error = Assert.Single(HistoryChecker.CheckFinal(history, Final("k", "never-written")));
        Assert.Contains("phantom", error, StringComparison.Ordinal);
    }

    [Fact]
    public void CatchesAValueWhoseWriteCertainlyFailed()
    {
        var history = new[] { Put("k", "a", 0, 10), Put("k", "refused", 20, 30, Outcome.Failed) };
        var error = Assert.Single(HistoryChecker.CheckFinal(history, Final("k", "refused")));
        Assert.Contains("certainly failed", error, StringComparison.Ordinal);
    }

    [Fact]
    public void CatchesAResurrectedDelete()
    {
        var history = new[] { Put("k", "a", 0, 10), Delete("k", 20, 30) };
        var error = Assert.Single(HistoryChecker.CheckFinal(history, Final("k", "a")));
        Assert.Contains("deleted key came back", error, StringComparison.Ordinal);
        Assert.Empty(HistoryChecker.CheckFinal(history, Final("k", null)));
    }

    [Fact]
    public void CatchesAKeyThatVanishedWithoutADelete()
    {
        var history = new[] { Put("k", "a", 0, 10) };
        var error = Assert.Single(HistoryChecker.CheckFinal(history, Final("k", null)));
        Assert.Contains("acknowledged write lost", error, StringComparison.Ordinal);
    }

    [Fact]
    public void LetsEitherOfTwoConcurrentWritesWin()
    {
        // Overlapping, and also sequential but within the clock's millisecond: both are concurrent under LWW.
        var overlapping = new[] { Put("k", "a", 0, 10, client: 1), Put("k", "b", 5, 15, client: 2) };
        Assert.Empty(HistoryChecker.CheckFinal(overlapping, Final("k", "a")));
        Assert.Empty(HistoryChecker.CheckFinal(overlapping, Final("k", "b")));
        var adjacent = new[] { Put("k", "c", 0, 10), Put("k", "d", 10, 12) };
        Assert.Empty(HistoryChecker.CheckFinal(adjacent, Final("k", "c")));
    }

    [Fact]
    public void LetsAnUnansweredWriteWinOverLaterOnes()
    {
        // A timed-out write may be applied after everything that followed it; a 503 is stamped before its answer.
        var timedOut = new[] { Put("k", "late", 0, 5000, Outcome.Unknown, openEnded: true), Put("k", "b", 6000, 6010) };
        Assert.Empty(HistoryChecker.CheckFinal(timedOut, Final("k", "late")));
        var refusedAtQuorum = new[] { Put("k", "partial", 0, 2000, Outcome.Unknown), Put("k", "b", 3000, 3010) };
        Assert.NotEmpty(HistoryChecker.CheckFinal(refusedAtQuorum, Final("k", "partial")));
        Assert.Empty(HistoryChecker.CheckFinal(refusedAtQuorum, Final("k", "b")));
    }

    [Fact]
    public void LetsAnUnknownWriteBeLostButNeverAnAcknowledgedOne()
    {
        var history = new[] { Put("k", "a", 0, 10), Put("k", "maybe", 20, 2020, Outcome.Unknown) };
        Assert.Empty(HistoryChecker.CheckFinal(history, Final("k", "a")));
        Assert.Empty(HistoryChecker.CheckFinal(history, Final("k", "maybe")));
    }

    [Fact]
    public void CatchesAStaleQuorumRead()
    {
        var history = new[] { Put("k", "a", 0, 10), Put("k", "b", 20, 30), Get("k", "a", 40, 45) };
        var error = Assert.Single(HistoryChecker.CheckReads(history, _ => true));
        Assert.Contains("#3", error, StringComparison.Ordinal);
        Assert.Empty(HistoryChecker.CheckReads(history, _ => false));
    }

    [Fact]
    public void AcceptsAReadConcurrentWithAWrite()
    {
        // The read started before "b" was acknowledged: either value is fine.
        var history = new[] { Put("k", "a", 0, 10), Put("k", "b", 20, 30), Get("k", "a", 25, 35), Get("k", "b", 25, 35) };
        Assert.Empty(HistoryChecker.CheckReads(history, _ => true));
    }

    [Fact]
    public void CatchesAReadOfADeletedKeyAndOfAPhantom()
    {
        var history = new[] { Put("k", "a", 0, 10), Delete("k", 20, 30), Get("k", "a", 40, 45), Get("k", "ghost", 50, 55), Get("k", null, 60, 65) };
        var errors = HistoryChecker.CheckReads(history, _ => true);
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Contains("deleted key came back", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("phantom", StringComparison.Ordinal));
    }

    [Fact]
    public void CatchesAReadOfAValueBeforeItsWriteStarted()
    {
        var history = new[] { Get("k", "future", 0, 5), Put("k", "future", 10, 20) };
        Assert.Contains("before it was written", Assert.Single(HistoryChecker.CheckReads(history, _ => true)), StringComparison.Ordinal);
    }

    [Fact]
    public void MeasuresReadYourWritesPerClient()
    {
        var history = new[]
        {
            Put("k1", "a", 0, 10, client: 1), Get("k1", "a", 20, 25, client: 1),
            Put("k1", "b", 30, 40, client: 1), Get("k1", "a", 50, 55, client: 1),
            Get("k2", null, 0, 5, client: 2),
        };
        Assert.Equal((1, 2), HistoryChecker.ReadYourWrites(history));
    }
}
