using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using RingKv.Core.Hashing;
using RingKv.Core.Versioning;
using RingKv.Storage.Hints;

namespace RingKv.Storage.Tests.Hints;

/// <summary>What every hint store must do, run against each implementation.</summary>
public abstract class HintStoreContract
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    /// <summary>A store named <paramref name="name"/>: the same name reopens the same hints where the implementation keeps any.</summary>
    protected abstract IHintStore Open(HintStoreLimits limits, string name = "hints");

    protected static StoredEntry Entry(string key, string value = "value", ulong timestamp = 1) =>
        new(key, KeyToken.Of(key), Encoding.UTF8.GetBytes(value), "text/plain", new EntryVersion(timestamp, 1), false, 0);

    protected static string[] Keys(IEnumerable<Hint> hints) => [.. hints.Select(h => h.Entry.Key)];

    [Fact]
    public async Task HintsOfEachOwnerComeBackInArrivalOrder()
    {
        await using var store = Open(HintStoreLimits.Default);
        for (var i = 0; i < 5; i++)
        {
            foreach (var owner in new[] { "n3", "n1", "n10" })
            {
                Assert.True(await store.AddAsync(owner, Entry($"{owner}/{i}")));
            }
        }

        Assert.Equal(["n1", "n10", "n3"], store.Owners());
        foreach (var owner in new[] { "n1", "n10", "n3" })
        {
            var hints = store.Peek(owner, 100);
            Assert.Equal([.. Enumerable.Range(0, 5).Select(i => $"{owner}/{i}")], Keys(hints));
            Assert.All(hints, h => Assert.Equal(owner, h.OwnerId));
            Assert.True(hints.Zip(hints.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), "sequences must increase in arrival order");
        }
        Assert.Equal(["n1/0", "n1/1"], Keys(store.Peek("n1", 2)));
        Assert.Empty(store.Peek("n1", 0));
        Assert.Empty(store.Peek("n2", 10));
    }

    [Fact]
    public async Task HintCarriesEveryFieldOfTheEntryAndItsCreationTime()
    {
        await using var store = Open(HintStoreLimits.Default);
        var expires = Time.GetUtcNow().AddHours(1).ToUnixTimeMilliseconds();
        var live = new StoredEntry("a/b", KeyToken.Of("a/b"), [1, 2, 3], "application/x-thing", new EntryVersion(123, 7), false, expires);
        var tombstone = StoredEntry.Tombstone("gone", KeyToken.Of("gone"), new EntryVersion(456, 2));
        var createdAt = Time.GetUtcNow();
        await store.AddAsync("n2", live);
        await store.AddAsync("n2", tombstone);

        var hints = store.Peek("n2", 10);

        Assert.Equal(2, hints.Count);
        Assert.Equal(live.Value, hints[0].Entry.Value);
        Assert.Equal(live with { Value = hints[0].Entry.Value }, hints[0].Entry);
        Assert.Equal(tombstone with { Value = hints[1].Entry.Value }, hints[1].Entry);
        Assert.Empty(hints[1].Entry.Value);
        Assert.All(hints, h => Assert.Equal(createdAt, h.CreatedAt));
    }

    [Fact]
    public async Task AcknowledgedHintIsRemovedOnceAndNotReplayedAgain()
    {
        await using var store = Open(HintStoreLimits.Default);
        for (var i = 0; i < 3; i++)
        {
            await store.AddAsync("n1", Entry($"k{i}"));
        }
        var bytesOfThree = store.GetStats().Bytes;

        var first = store.Peek("n1", 1).Single();
        Assert.True(store.Remove(first));
        Assert.False(store.Remove(first));

        Assert.Equal(["k1", "k2"], Keys(store.Peek("n1", 10)));
        var stats = store.GetStats();
        Assert.Equal(2, stats.Pending);
        Assert.Equal(bytesOfThree * 2 / 3, stats.Bytes);
        Assert.Equal(new HintBacklog(2, stats.Bytes), stats.PerOwner["n1"]);

        foreach (var hint in store.Peek("n1", 10))
        {
            Assert.True(store.Remove(hint));
        }
        Assert.Empty(store.Peek("n1", 10));
        Assert.Empty(store.Owners());
        var emptied = store.GetStats();
        Assert.Equal((0L, 0L, 0L, 0L), (emptied.Pending, emptied.Bytes, emptied.Dropped, emptied.Expired));
        Assert.Empty(emptied.PerOwner);
    }

    [Fact]
    public async Task RemoveThroughAcknowledgesAReplayedBatchOfOneOwnerOnly()
    {
        await using var store = Open(HintStoreLimits.Default);
        for (var i = 0; i < 5; i++)
        {
            await store.AddAsync("n1", Entry($"k{i}"));
            await store.AddAsync("n2", Entry($"other{i}"));
        }

        var batch = store.Peek("n1", 3);
        Assert.Equal(3, store.RemoveThrough("n1", batch[^1].Sequence));
        Assert.Equal(0, store.RemoveThrough("n1", batch[^1].Sequence));

        Assert.Equal(["k3", "k4"], Keys(store.Peek("n1", 10)));
        Assert.Equal(5, store.Peek("n2", 10).Count);

        // An evicted owner's hints go all at once; hints made for it afterwards are still seen.
        Assert.Equal(2, store.RemoveThrough("n1", long.MaxValue));
        Assert.Equal(["n2"], store.Owners());
        await store.AddAsync("n1", Entry("after"));
        Assert.Equal(["after"], Keys(store.Peek("n1", 10)));
        Assert.Equal(6, store.GetStats().Pending);
    }

    [Fact]
    public async Task HintPastTheCountBoundIsRefusedAndCountedAsDropped()
    {
        await using var store = Open(HintStoreLimits.Default with { MaxHints = 3 });
        Assert.True(await store.AddAsync("n1", Entry("a")));
        Assert.True(await store.AddAsync("n2", Entry("b")));
        Assert.True(await store.AddAsync("n1", Entry("c")));

        Assert.False(await store.AddAsync("n1", Entry("refused")));
        Assert.False(await store.AddAsync("n3", Entry("refused-too")));

        var stats = store.GetStats();
        Assert.Equal(3, stats.Pending);
        Assert.Equal(2, stats.Dropped);
        Assert.Equal(["a", "c"], Keys(store.Peek("n1", 10)));
        Assert.Empty(store.Peek("n3", 10));

        // Room comes back once a hint is acknowledged.
        Assert.True(store.Remove(store.Peek("n2", 1).Single()));
        Assert.True(await store.AddAsync("n3", Entry("d")));
        Assert.Equal(2, store.GetStats().Dropped);
    }

    [Fact]
    public async Task HintPastTheBytesBoundIsRefusedAndCountedAsDropped()
    {
        long oneHint;
        await using (var probe = Open(HintStoreLimits.Default, "probe"))
        {
            await probe.AddAsync("n1", Entry("k0"));
            oneHint = probe.GetStats().Bytes;
        }
        Assert.True(oneHint > 0);

        await using var store = Open(HintStoreLimits.Default with { MaxBytes = (oneHint * 2) + (oneHint / 2) });
        Assert.True(await store.AddAsync("n1", Entry("k1")));
        Assert.True(await store.AddAsync("n2", Entry("k2")));
        Assert.False(await store.AddAsync("n1", Entry("k3")));
        Assert.False(await store.AddAsync("n1", Entry("big", new string('x', (int)oneHint * 3))));

        var stats = store.GetStats();
        Assert.Equal(2, stats.Pending);
        Assert.Equal(oneHint * 2, stats.Bytes);
        Assert.Equal(2, stats.Dropped);
        Assert.Equal(["k1"], Keys(store.Peek("n1", 10)));
    }

    [Fact]
    public async Task ExpiredHintsAreSkippedDiscardedAndCounted()
    {
        var limits = HintStoreLimits.Default with { MaxAge = TimeSpan.FromHours(3) };
        await using var store = Open(limits);
        await store.AddAsync("n1", Entry("old1"));
        await store.AddAsync("n1", Entry("old2"));
        Time.Advance(TimeSpan.FromHours(2));
        await store.AddAsync("n1", Entry("young"));
        Time.Advance(TimeSpan.FromHours(1));

        // Exactly MaxAge old: still worth replaying.
        Assert.Equal(["old1", "old2", "young"], Keys(store.Peek("n1", 10)));
        Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(["young"], Keys(store.Peek("n1", 10)));
        var stats = store.GetStats();
        Assert.Equal(1, stats.Pending);
        Assert.Equal(2, stats.Expired);
        Assert.Equal(0, stats.Dropped);
        Assert.Equal(new HintBacklog(1, stats.Bytes), stats.PerOwner["n1"]);

        // Discarded, not just hidden: reading again counts nothing twice.
        Assert.Equal(["young"], Keys(store.Peek("n1", 10)));
        Assert.Equal(2, store.GetStats().Expired);
    }

    [Fact]
    public async Task PurgeExpiredFreesTheRoomOfOwnersThatNeverCameBack()
    {
        await using var store = Open(HintStoreLimits.Default with { MaxHints = 3, MaxAge = TimeSpan.FromMinutes(10) });
        await store.AddAsync("gone", Entry("a"));
        await store.AddAsync("gone", Entry("b"));
        await store.AddAsync("alive", Entry("c"));
        Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, store.PurgeExpired());
        Assert.False(await store.AddAsync("alive", Entry("refused")));
        Time.Advance(TimeSpan.FromMinutes(6));

        Assert.Equal(3, store.PurgeExpired());

        var stats = store.GetStats();
        Assert.Equal(0, stats.Pending);
        Assert.Equal(0, stats.Bytes);
        Assert.Equal(3, stats.Expired);
        Assert.Empty(store.Owners());
        Assert.True(await store.AddAsync("alive", Entry("d")));
        Assert.Equal(["d"], Keys(store.Peek("alive", 10)));
    }

    [Fact]
    public async Task ConcurrentAddersLoseNothingAndKeepEachAddersOrder()
    {
        const int Adders = 8;
        const int PerAdder = 200;
        string[] owners = ["n1", "n2", "n3"];
        await using var store = Open(HintStoreLimits.Default);

        await Task.WhenAll(Enumerable.Range(0, Adders).Select(adder => Task.Run(async () =>
        {
            for (var i = 0; i < PerAdder; i++)
            {
                Assert.True(await store.AddAsync(owners[i % owners.Length], Entry($"{adder}/{i}")));
            }
        })));

        var stats = store.GetStats();
        Assert.Equal(Adders * PerAdder, stats.Pending);
        Assert.Equal(0, stats.Dropped);
        var all = new List<Hint>();
        foreach (var owner in owners)
        {
            var hints = store.Peek(owner, int.MaxValue);
            Assert.Equal(stats.PerOwner[owner].Hints, hints.Count);
            all.AddRange(hints);
            // Each adder awaited every add before the next, so its hints arrived in its order.
            foreach (var byAdder in hints.GroupBy(h => h.Entry.Key.Split('/')[0]))
            {
                var issued = byAdder.Select(h => int.Parse(h.Entry.Key.Split('/')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
                Assert.Equal(issued.Order(), issued);
            }
        }
        Assert.Equal(Adders * PerAdder, all.Select(h => h.Sequence).Distinct().Count());
        Assert.Equal(
            Enumerable.Range(0, Adders).SelectMany(a => Enumerable.Range(0, PerAdder).Select(i => $"{a}/{i}")).Order(StringComparer.Ordinal),
            all.Select(h => h.Entry.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ReplayerRacingAddersDeliversEveryHintOnceInOrder()
    {
        const int Adders = 4;
        const int PerAdder = 250;
        await using var store = Open(HintStoreLimits.Default);
        var adding = Task.WhenAll(Enumerable.Range(0, Adders).Select(adder => Task.Run(async () =>
        {
            for (var i = 0; i < PerAdder; i++)
            {
                Assert.True(await store.AddAsync("n1", Entry($"{adder}/{i}")));
            }
        })));

        var delivered = new List<Hint>();
        var clock = Stopwatch.StartNew();
        var round = 0;
        while (true)
        {
            // Read "done" before peeking: a hint added after an empty peek is then caught next round.
            var done = adding.IsCompleted;
            var batch = store.Peek("n1", 64);
            if (batch.Count == 0)
            {
                if (done)
                {
                    break;
                }
                if (clock.Elapsed > Deadline)
                {
                    Assert.Fail($"Replayer saw no new hint for n1 within {Deadline} while adders were still running; delivered {delivered.Count} of {Adders * PerAdder}, stats {store.GetStats()}.");
                }
                await Task.Yield();
                continue;
            }
            delivered.AddRange(batch);
            // Alternate the two ways to acknowledge.
            if (round++ % 2 == 0)
            {
                Assert.Equal(batch.Count, store.RemoveThrough("n1", batch[^1].Sequence));
            }
            else
            {
                Assert.All(batch, h => Assert.True(store.Remove(h), $"hint {h.Sequence} was already gone"));
            }
        }
        await adding;

        Assert.Equal(Adders * PerAdder, delivered.Count);
        Assert.True(delivered.Zip(delivered.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), "replay must follow arrival order");
        Assert.Equal(Adders * PerAdder, delivered.Select(h => h.Entry.Key).Distinct().Count());
        Assert.Equal(0, store.GetStats().Pending);
        Assert.Equal(0, store.GetStats().Bytes);
    }

    [Fact]
    public async Task OwnerIdThatCannotBeAKeyPrefixIsRefused()
    {
        await using var store = Open(HintStoreLimits.Default);
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.AddAsync("", Entry("k")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await store.AddAsync("n1\0x", Entry("k")));
        Assert.Throws<ArgumentException>(() => store.Peek("", 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => store.Peek("n1", -1));
    }

    [Fact]
    public void LimitsThatWouldRefuseEveryHintFailAtOpen()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Open(HintStoreLimits.Default with { MaxHints = 0 }, "zero-count"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Open(HintStoreLimits.Default with { MaxBytes = -1 }, "negative-bytes"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Open(HintStoreLimits.Default with { MaxAge = TimeSpan.Zero }, "zero-age"));
    }
}
