using RingKv.Core.Versioning;
using RingKv.Storage.Hints;
using RingKv.Storage.RocksDb;

namespace RingKv.Storage.Tests.Hints;

public sealed class RocksDbHintStoreTests : HintStoreContract, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "ringkv-hints-" + Guid.NewGuid().ToString("N"));

    protected override IHintStore Open(HintStoreLimits limits, string name = "hints") =>
        HintStore.Open(Path.Combine(_root, name), limits, Time);

    [Fact]
    public async Task HintsCountsAndOrderSurviveCloseAndReopen()
    {
        HintStats before;
        await using (var store = Open(HintStoreLimits.Default))
        {
            for (var i = 0; i < 4; i++)
            {
                await store.AddAsync("n1", Entry($"k{i}"));
                await store.AddAsync("n2", Entry($"other{i}"));
            }
            store.Remove(store.Peek("n1", 1).Single());
            before = store.GetStats();
        }

        await using var reopened = Open(HintStoreLimits.Default);

        var after = reopened.GetStats();
        Assert.Equal(7, after.Pending);
        Assert.Equal(before.Bytes, after.Bytes);
        Assert.Equal(before.PerOwner, after.PerOwner);
        Assert.Equal(["n1", "n2"], reopened.Owners());
        Assert.Equal(["k1", "k2", "k3"], Keys(reopened.Peek("n1", 10)));
        Assert.Equal(["other0", "other1", "other2", "other3"], Keys(reopened.Peek("n2", 10)));
    }

    [Fact]
    public async Task SequencesKeepRisingAfterReopenEvenWhenEveryHintWasRemoved()
    {
        long last;
        await using (var store = Open(HintStoreLimits.Default))
        {
            await store.AddAsync("n2", Entry("a"));
            await store.AddAsync("n1", Entry("b"));
            last = store.Peek("n1", 1).Single().Sequence;
            store.RemoveThrough("n1", long.MaxValue);
            store.RemoveThrough("n2", long.MaxValue);
        }

        await using var reopened = Open(HintStoreLimits.Default);

        Assert.Equal(0, reopened.GetStats().Pending);
        await reopened.AddAsync("n1", Entry("c"));
        Assert.True(reopened.Peek("n1", 1).Single().Sequence > last);
    }

    [Fact]
    public async Task LimitsLoweredBelowTheStoredHintsKeepThemAndRefuseNewOnes()
    {
        await using (var store = Open(HintStoreLimits.Default))
        {
            for (var i = 0; i < 3; i++)
            {
                await store.AddAsync("n1", Entry($"k{i}"));
            }
        }

        await using var reopened = Open(HintStoreLimits.Default with { MaxHints = 2 });

        Assert.Equal(3, reopened.GetStats().Pending);
        Assert.False(await reopened.AddAsync("n1", Entry("refused")));
        Assert.Equal(3, reopened.Peek("n1", 10).Count);
    }

    [Fact]
    public async Task BothStoresMeasureAHintAlikeSoTheyFillUpAtTheSameHint()
    {
        var entry = Entry("k", new string('x', 100));
        await using var durable = Open(HintStoreLimits.Default);
        await using var memory = HintStore.InMemory(HintStoreLimits.Default, Time);

        await durable.AddAsync("n1", entry);
        await memory.AddAsync("n1", entry);

        Assert.Equal(durable.GetStats().Bytes, memory.GetStats().Bytes);
    }

    [Fact]
    public async Task DirectoryOfAnotherDatabaseIsRefusedWithAWayOut()
    {
        var directory = Path.Combine(_root, "engine");
        await using (var engine = RocksDbEngine.Open(directory, FsyncMode.Never, Time))
        {
            await engine.WriteAsync(Entry("some-user-key") with { Version = new EntryVersion(5, 1) }, WritePrecondition.None);
        }

        var error = Assert.Throws<InvalidDataException>(() => HintStore.Open(directory, HintStoreLimits.Default, Time));
        Assert.Contains("own directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddingAfterDisposeFailsInsteadOfLosingTheHint()
    {
        var store = Open(HintStoreLimits.Default);
        await store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await store.AddAsync("n1", Entry("k")));
        Assert.Throws<ObjectDisposedException>(() => store.Peek("n1", 1));
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
