using System.Text;
using Microsoft.Extensions.Time.Testing;
using RingKv.Core.Hashing;
using RingKv.Core.Versioning;
using RingKv.Storage.Memory;
using RingKv.Storage.RocksDb;
using RingKv.Testing;

namespace RingKv.Storage.Tests;

public sealed class MemoryEngineTests : EngineContract
{
    protected override Task<IStorageEngine> OpenAsync() => Task.FromResult<IStorageEngine>(new MemoryEngine(Time));
}

public sealed class RocksDbEngineTests : EngineContract, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ringkv-engine-" + Guid.NewGuid().ToString("N"));

    protected override Task<IStorageEngine> OpenAsync() => Task.FromResult<IStorageEngine>(RocksDbEngine.Open(_directory, FsyncMode.Batch, Time));

    [Fact]
    public async Task EntriesSurviveCloseAndReopen()
    {
        await using (var engine = await OpenAsync())
        {
            await engine.WriteAsync(Entry("durable", "v1", 10), WritePrecondition.None);
            await engine.WriteAsync(StoredEntry.Tombstone("gone", KeyToken.Of("gone"), new EntryVersion(11, 1)), WritePrecondition.None);
        }
        await using (var reopened = await OpenAsync())
        {
            var entry = reopened.Get("durable");
            Assert.NotNull(entry);
            Assert.Equal("v1", Encoding.UTF8.GetString(entry.Value));
            Assert.Equal(new EntryVersion(10, 1), entry.Version);
            Assert.True(reopened.Get("gone")!.Deleted);
        }
    }

    [Fact]
    public async Task IndexAndFilterBlocksOfStoredTablesStayPinnedInTheCache()
    {
        await using (var engine = await OpenAsync())
        {
            for (var i = 0; i < 2000; i++)
            {
                await engine.WriteAsync(Entry($"key-{i}", "value", 10), WritePrecondition.None);
            }
        }
        // Reopening flushes the recovered log into a table, which is opened with its blocks pinned.
        await using var reopened = RocksDbEngine.Open(_directory, FsyncMode.Batch, Time);
        Assert.NotNull(reopened.Get("key-7"));
        // At least the table's bloom filter (10 bits per key) is held pinned; unpinned, only the
        // cache's own bookkeeping (under 100 bytes) would be.
        Assert.True(reopened.PinnedCacheBytes >= 2000 * 10 / 8, $"{reopened.PinnedCacheBytes} bytes pinned: the table's index and filter blocks are not");
    }

    [Fact]
    public async Task ALoggedWriteIsAcknowledgedBeforeItsSyncAndSyncedAfterTheDelay()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var engine = RocksDbEngine.Open(_directory, FsyncMode.Batch, time);
        Assert.Equal(0, engine.GetStats().LogSyncs);

        // A replica's copy of a peer's write, the peer holding a synced copy: answered from the log.
        var results = await engine.WriteAllAsync([Entry("a", "1", 10), Entry("b", "2", 10)], WriteDurability.Logged);
        Assert.All(results, r => Assert.Equal(WriteStatus.Applied, r.Status));
        Assert.Equal("2", Encoding.UTF8.GetString(engine.Get("b")!.Value));
        Assert.Equal(0, engine.GetStats().LogSyncs);

        // The engine's own sync comes once the delay has passed.
        time.Advance(RocksDbEngine.LoggedSyncDelay);
        await Eventually.WaitUntilAsync(() => engine.GetStats().LogSyncs == 1, TimeSpan.FromSeconds(10),
            () => $"{engine.GetStats().LogSyncs} syncs after the logged-write delay, 1 expected");

        // Synced writes, grouped or alone, are acknowledged only after a sync of their own.
        await engine.WriteAllAsync([Entry("c", "3", 10)]);
        Assert.Equal(2, engine.GetStats().LogSyncs);
        await engine.WriteAsync(Entry("d", "4", 10), WritePrecondition.None);
        Assert.Equal(3, engine.GetStats().LogSyncs);

        // No logged write is waiting: the timer asks for nothing more.
        time.Advance(RocksDbEngine.LoggedSyncDelay * 2);
        await engine.WriteAsync(Entry("e", "5", 10), WritePrecondition.None);
        Assert.Equal(4, engine.GetStats().LogSyncs);
    }

    [Fact]
    public async Task ALoggedWriteIsSyncedByTheNextSyncedOneAndNotAgainByItsTimer()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var engine = RocksDbEngine.Open(_directory, FsyncMode.Batch, time);
        await engine.WriteAllAsync([Entry("a", "1", 10)], WriteDurability.Logged);
        await engine.WriteAsync(Entry("b", "2", 10), WritePrecondition.None);
        Assert.Equal(1, engine.GetStats().LogSyncs);
        time.Advance(RocksDbEngine.LoggedSyncDelay);
        // Anything the timer asked for would be synced before this write's own sync.
        await engine.WriteAsync(Entry("c", "3", 10), WritePrecondition.None);
        Assert.Equal(2, engine.GetStats().LogSyncs);
    }

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

/// <summary>What every engine must do, run against each implementation.</summary>
public abstract class EngineContract
{
    protected TimeProvider Time { get; } = TimeProvider.System;

    protected abstract Task<IStorageEngine> OpenAsync();

    protected static StoredEntry Entry(string key, string value, ulong timestamp, uint node = 1, long expiresAtMs = 0) =>
        new(key, KeyToken.Of(key), Encoding.UTF8.GetBytes(value), "text/plain", new EntryVersion(timestamp, node), false, expiresAtMs);

    [Fact]
    public async Task StoresAndReturnsEveryField()
    {
        await using var engine = await OpenAsync();
        var expires = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
        var written = new StoredEntry("a/b/c", KeyToken.Of("a/b/c"), [1, 2, 3], "application/x-thing", new EntryVersion(123, 7), false, expires);
        var result = await engine.WriteAsync(written, WritePrecondition.None);
        Assert.Equal(WriteStatus.Applied, result.Status);
        var read = engine.Get("a/b/c");
        Assert.NotNull(read);
        Assert.Equal(written.Value, read.Value);
        Assert.Equal(written with { Value = read.Value }, read);
    }

    [Fact]
    public async Task OlderVersionIsIgnoredLastWriterWins()
    {
        await using var engine = await OpenAsync();
        await engine.WriteAsync(Entry("k", "new", 200), WritePrecondition.None);
        var stale = await engine.WriteAsync(Entry("k", "old", 100), WritePrecondition.None);
        Assert.Equal(WriteStatus.Stale, stale.Status);
        Assert.Equal(new EntryVersion(200, 1), stale.Current);
        Assert.Equal("new", Encoding.UTF8.GetString(engine.Get("k")!.Value));
        // Same timestamp: the node id breaks the tie, the same way on every replica.
        await engine.WriteAsync(Entry("k", "tie-high", 200, node: 2), WritePrecondition.None);
        await engine.WriteAsync(Entry("k", "tie-low", 200, node: 1), WritePrecondition.None);
        Assert.Equal("tie-high", Encoding.UTF8.GetString(engine.Get("k")!.Value));
    }

    [Fact]
    public async Task TombstoneHidesTheKeyAndAnOlderWriteCannotResurrectIt()
    {
        await using var engine = await OpenAsync();
        await engine.WriteAsync(Entry("k", "v", 100), WritePrecondition.None);
        await engine.WriteAsync(StoredEntry.Tombstone("k", KeyToken.Of("k"), new EntryVersion(200, 1)), WritePrecondition.None);
        var late = await engine.WriteAsync(Entry("k", "late-old-write", 150), WritePrecondition.None);
        Assert.Equal(WriteStatus.Stale, late.Status);
        var entry = engine.Get("k");
        Assert.True(entry!.Deleted);
        Assert.False(entry.IsLive(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
    }

    [Fact]
    public async Task ExpiredEntryIsNotLive()
    {
        await using var engine = await OpenAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await engine.WriteAsync(Entry("short", "v", 100, expiresAtMs: now - 1), WritePrecondition.None);
        await engine.WriteAsync(Entry("long", "v", 100, expiresAtMs: now + 60_000), WritePrecondition.None);
        Assert.False(engine.Get("short")!.IsLive(now));
        Assert.True(engine.Get("long")!.IsLive(now));
    }

    [Fact]
    public async Task PreconditionsAreCheckedAgainstTheLiveEntry()
    {
        await using var engine = await OpenAsync();
        Assert.Equal(WriteStatus.Applied, (await engine.WriteAsync(Entry("k", "v1", 100), WritePrecondition.IfAbsent)).Status);
        Assert.Equal(WriteStatus.PreconditionFailed, (await engine.WriteAsync(Entry("k", "v2", 200), WritePrecondition.IfAbsent)).Status);
        Assert.Equal(WriteStatus.PreconditionFailed, (await engine.WriteAsync(Entry("k", "v2", 200), WritePrecondition.IfVersion(new EntryVersion(99, 1)))).Status);
        Assert.Equal(WriteStatus.Applied, (await engine.WriteAsync(Entry("k", "v2", 200), WritePrecondition.IfVersion(new EntryVersion(100, 1)))).Status);
        await engine.WriteAsync(StoredEntry.Tombstone("k", KeyToken.Of("k"), new EntryVersion(300, 1)), WritePrecondition.None);
        // A deleted key is absent again.
        Assert.Equal(WriteStatus.Applied, (await engine.WriteAsync(Entry("k", "v3", 400), WritePrecondition.IfAbsent)).Status);
    }

    [Fact]
    public async Task ConcurrentWritersAndReadersConvergeOnTheNewestVersion()
    {
        await using var engine = await OpenAsync();
        const int Writers = 8;
        const int WritesEach = 300;
        const int Keys = 20;
        var readsSeenGoingBackwards = 0;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var lastSeen = new Dictionary<string, EntryVersion>();
            while (!stop.IsCancellationRequested)
            {
                for (var k = 0; k < Keys; k++)
                {
                    var key = "key-" + k;
                    if (engine.Get(key) is { } entry)
                    {
                        if (lastSeen.TryGetValue(key, out var previous) && entry.Version < previous)
                        {
                            Interlocked.Increment(ref readsSeenGoingBackwards);
                        }
                        lastSeen[key] = entry.Version;
                    }
                }
            }
        })).ToArray();
        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var i = 0; i < WritesEach; i++)
            {
                var key = "key-" + random.Next(Keys);
                await engine.WriteAsync(Entry(key, $"w{w}-{i}", (ulong)random.Next(1, 1_000_000), (uint)w), WritePrecondition.None);
            }
        })).ToArray();
        await Task.WhenAll(writers);
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(0, readsSeenGoingBackwards);
        // Replaying the same writes in one thread must give the same winners: the max version per key.
        var expected = new Dictionary<string, EntryVersion>();
        for (var w = 0; w < Writers; w++)
        {
            var random = new Random(w);
            for (var i = 0; i < WritesEach; i++)
            {
                var key = "key-" + random.Next(Keys);
                var version = new EntryVersion((ulong)random.Next(1, 1_000_000), (uint)w);
                expected[key] = expected.TryGetValue(key, out var v) ? EntryVersion.Max(v, version) : version;
            }
        }
        foreach (var (key, version) in expected)
        {
            Assert.Equal(version, engine.Get(key)!.Version);
        }
    }

    [Fact]
    public async Task ScanStreamsATokenRangeInTokenOrderAndResumesAfterAPosition()
    {
        await using var engine = await OpenAsync();
        var keys = Enumerable.Range(0, 300).Select(i => "scan-" + i).ToList();
        foreach (var key in keys)
        {
            await engine.WriteAsync(Entry(key, "v", 1), WritePrecondition.None);
        }
        var all = engine.Scan(ScanPosition.Start).ToList();
        Assert.Equal(keys.Count, all.Count);
        Assert.Equal(all.Select(e => e.Token).Order(), all.Select(e => e.Token));

        var low = all[50].Token;
        var high = all[200].Token;
        var range = engine.Scan(ScanPosition.AtToken(low), high).ToList();
        Assert.Equal(all.Skip(50).Take(151).Select(e => e.Key), range.Select(e => e.Key));

        var resumeAt = all[120];
        var resumed = engine.Scan(new ScanPosition(resumeAt.Token, Encoding.UTF8.GetBytes(resumeAt.Key))).ToList();
        Assert.Equal(all.Skip(121).Select(e => e.Key), resumed.Select(e => e.Key));
    }

    [Fact]
    public async Task ScanIncludesTombstonesSoTransfersCarryDeletes()
    {
        await using var engine = await OpenAsync();
        await engine.WriteAsync(StoredEntry.Tombstone("deleted", KeyToken.Of("deleted"), new EntryVersion(5, 1)), WritePrecondition.None);
        Assert.Contains(engine.Scan(ScanPosition.Start), e => e.Key == "deleted" && e.Deleted);
    }

    [Fact]
    public async Task DeleteAllRemovesEveryEntryAndLaterWritesLand()
    {
        await using var engine = await OpenAsync();
        await engine.WriteAsync(Entry("a", "v", 10), WritePrecondition.None);
        await engine.WriteAsync(StoredEntry.Tombstone("b", KeyToken.Of("b"), new EntryVersion(11, 1)), WritePrecondition.None);
        var concurrent = engine.WriteAsync(Entry("c", "v", 12), WritePrecondition.None);
        await engine.DeleteAllAsync();
        await concurrent;
        Assert.Null(engine.Get("a"));
        Assert.Null(engine.Get("b"));
        Assert.Empty(engine.Scan(ScanPosition.Start));
        // An older version than the one deleted is accepted again: the slate is clean.
        Assert.Equal(WriteStatus.Applied, (await engine.WriteAsync(Entry("a", "again", 1), WritePrecondition.None)).Status);
        Assert.Equal("again", Encoding.UTF8.GetString(engine.Get("a")!.Value));
    }

    [Fact]
    public async Task DeleteTokensRemovesExactlyTheEntriesOfThatTokenRange()
    {
        await using var engine = await OpenAsync();
        var keys = Enumerable.Range(0, 200).Select(i => "range-" + i).ToList();
        foreach (var key in keys)
        {
            await engine.WriteAsync(Entry(key, "v", 5), WritePrecondition.None);
        }
        var all = engine.Scan(ScanPosition.Start).ToList();
        var first = all[40].Token;
        var last = all[120].Token;
        await engine.DeleteTokensAsync(first, last);
        var left = engine.Scan(ScanPosition.Start).Select(e => e.Key).ToList();
        Assert.Equal(all.Where(e => e.Token < first || e.Token > last).Select(e => e.Key), left);
    }

    [Fact]
    public async Task ConcurrentWritesOfOneKeyKeepTheNewestEvenWithinOneBatch()
    {
        await using var engine = await OpenAsync();
        // Issued together so the committer takes them in one batch: each must be checked against
        // the ones before it in that batch, not only against what is already stored.
        var versions = Enumerable.Range(1, 200).Select(i => (ulong)((i * 7919) % 200 + 1)).ToList();
        var writes = versions.Select(v => engine.WriteAsync(Entry("hot", "v" + v, v), WritePrecondition.None).AsTask()).ToList();
        var results = await Task.WhenAll(writes);
        Assert.Equal("v200", Encoding.UTF8.GetString(engine.Get("hot")!.Value));
        Assert.Contains(results, r => r.Status == WriteStatus.Stale);
    }

    [Fact]
    public async Task AGroupWriteAnswersEachEntryInOrderAndChecksEachVersion()
    {
        await using var engine = await OpenAsync();
        await engine.WriteAsync(Entry("held", "newer", 500), WritePrecondition.None);
        // More entries than one commit takes, so a group may span batches; a key twice in it, older second.
        var group = Enumerable.Range(0, 1200).Select(i => Entry("g" + i, "v" + i, 100)).ToList();
        group.Insert(7, Entry("held", "older", 100));
        group.Insert(20, Entry("twice", "second", 300));
        group.Insert(700, Entry("twice", "first", 200));
        var results = await engine.WriteAllAsync(group);

        Assert.Equal(group.Count, results.Length);
        Assert.Equal(WriteStatus.Stale, results[7].Status);
        Assert.Equal(new EntryVersion(500, 1), results[7].Current);
        Assert.Equal(WriteStatus.Applied, results[20].Status);
        Assert.Equal(WriteStatus.Stale, results[700].Status);
        Assert.Equal(2, results.Count(r => r.Status == WriteStatus.Stale));
        Assert.Equal("newer", Encoding.UTF8.GetString(engine.Get("held")!.Value));
        Assert.Equal("second", Encoding.UTF8.GetString(engine.Get("twice")!.Value));
        Assert.Equal("v1199", Encoding.UTF8.GetString(engine.Get("g1199")!.Value));
        Assert.Empty(await engine.WriteAllAsync([]));
    }

    [Fact]
    public async Task AfterARangeDeletionAnOlderWriteLandsAndOtherKeysKeepTheirVersions()
    {
        await using var engine = await OpenAsync();
        await engine.WriteAsync(Entry("gone", "new", 500), WritePrecondition.None);
        await engine.WriteAsync(Entry("kept", "new", 500), WritePrecondition.None);
        var gone = KeyToken.Of("gone");
        var kept = KeyToken.Of("kept");
        await engine.DeleteTokensAsync(gone, gone);
        Assert.Equal(WriteStatus.Applied, (await engine.WriteAsync(Entry("gone", "older", 100), WritePrecondition.None)).Status);
        Assert.Equal("older", Encoding.UTF8.GetString(engine.Get("gone")!.Value));
        if (kept != gone)
        {
            Assert.Equal(WriteStatus.Stale, (await engine.WriteAsync(Entry("kept", "older", 100), WritePrecondition.None)).Status);
        }
    }

    [Fact]
    public async Task VersionsAreCheckedAfterManyOtherKeysWereWritten()
    {
        await using var engine = await OpenAsync();
        await engine.WriteAsync(Entry("first", "new", 500), WritePrecondition.None);
        // More keys than the engine remembers recent versions for: the check must fall back to storage.
        var filler = Enumerable.Range(0, 70_000).Select(i => engine.WriteAsync(Entry("filler-" + i, "v", 1), WritePrecondition.None).AsTask());
        await Task.WhenAll(filler);
        Assert.Equal(WriteStatus.Stale, (await engine.WriteAsync(Entry("first", "older", 100), WritePrecondition.None)).Status);
        Assert.Equal("new", Encoding.UTF8.GetString(engine.Get("first")!.Value));
    }

    [Fact]
    public async Task StatsCountStoredEntries()
    {
        await using var engine = await OpenAsync();
        for (var i = 0; i < 10; i++)
        {
            await engine.WriteAsync(Entry("stat-" + i, "value", 1), WritePrecondition.None);
        }
        var stats = engine.GetStats();
        Assert.True(stats.Keys >= 10, $"keys {stats.Keys}");
        Assert.True(stats.Bytes > 0, $"bytes {stats.Bytes}");
    }

    private static ulong AtMs(long ms, int logical = 0) => ((ulong)ms << HybridLogicalClock.LogicalBits) | (uint)logical;

    [Fact]
    public async Task PurgeRemovesExactlyTheListedTombstonesThatAreStillStored()
    {
        await using var engine = await OpenAsync();
        for (var i = 0; i < 120; i++)
        {
            var key = "purge-" + i;
            var version = new EntryVersion(AtMs(i % 2 == 0 ? 1_000 : 5_000, i), 1);
            await engine.WriteAsync(i % 3 == 0 ? Entry(key, "live", version.Timestamp) : StoredEntry.Tombstone(key, KeyToken.Of(key), version), WritePrecondition.None);
        }
        var before = engine.Scan(ScanPosition.Start).ToList();
        var first = before[20].Token;
        var last = before[90].Token;
        bool Purgeable(StoredEntry e) => e.Deleted && e.Version.WallMilliseconds < 2_000 && e.Token >= first && e.Token <= last;

        // Live entries and tombstones of another version in the list are left alone.
        var asked = before.Where(Purgeable)
            .Concat(before.Where(e => !e.Deleted).Take(5).Select(e => e with { Deleted = true }))
            .Concat(before.Where(e => e.Deleted && !Purgeable(e)).Take(5).Select(e => e with { Version = new EntryVersion(e.Version.Timestamp - 1, 1) }))
            .ToList();

        var purged = await engine.PurgeTombstonesAsync(asked);

        Assert.Equal(before.Count(Purgeable), purged);
        Assert.True(purged > 0);
        Assert.Equal(before.Where(e => !Purgeable(e)).Select(e => e.Key), engine.Scan(ScanPosition.Start).Select(e => e.Key));
        Assert.Equal(0, await engine.PurgeTombstonesAsync(asked));
    }

    private static List<StoredEntry> OldTombstones(IStorageEngine engine) =>
        [.. engine.Scan(ScanPosition.Start).Where(e => e.Deleted && e.Version.WallMilliseconds < 2_000)];

    [Fact]
    public async Task PurgeNeverRemovesAWriteThatReplacedTheTombstoneMeanwhile()
    {
        await using var engine = await OpenAsync();
        for (var round = 0; round < 5; round++)
        {
            var keys = Enumerable.Range(0, 400).Select(i => $"race-{round}-{i}").ToList();
            foreach (var key in keys)
            {
                await engine.WriteAsync(StoredEntry.Tombstone(key, KeyToken.Of(key), new EntryVersion(AtMs(1_000), 1)), WritePrecondition.None);
            }
            // The purge works from a list read before newer writes (a live value, or a newer
            // tombstone that is itself past the cutoff) race it on other threads.
            var candidates = OldTombstones(engine);
            var newer = keys.Where((_, i) => i % 2 == 0).Select((key, i) =>
                i % 4 == 0 ? StoredEntry.Tombstone(key, KeyToken.Of(key), new EntryVersion(AtMs(1_500), 2)) : Entry(key, "newer", AtMs(3_000), 2)).ToList();
            var writes = Task.Run(async () =>
            {
                foreach (var entry in newer)
                {
                    await engine.WriteAsync(entry, WritePrecondition.None);
                }
            });
            var purge = Task.Run(async () => await engine.PurgeTombstonesAsync(candidates));
            await Task.WhenAll(writes, purge);
            for (var i = 0; i < keys.Count; i++)
            {
                var stored = engine.Get(keys[i]);
                if (i % 2 == 0)
                {
                    Assert.True(stored is not null && stored.Version.NodeId == 2, $"{keys[i]}: the newer write was lost to the purge ({stored})");
                }
                else
                {
                    Assert.Null(stored);
                }
            }
            // Whatever the interleaving, a second purge finds every old tombstone that is left.
            await engine.PurgeTombstonesAsync(OldTombstones(engine));
            Assert.All(keys, key => Assert.False(engine.Get(key) is { Deleted: true }, $"{key} still holds a tombstone past the cutoff"));
            Assert.Equal(keys.Count / 2 * 3 / 4, keys.Count(key => engine.Get(key) is { Deleted: false }));
        }
    }
}
