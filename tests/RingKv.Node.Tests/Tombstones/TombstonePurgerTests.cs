using Microsoft.Extensions.Logging.Abstractions;
using RingKv.Core.Cluster;
using RingKv.Core.Hashing;
using RingKv.Core.Ring;
using RingKv.Core.Versioning;
using RingKv.Node.Hosting;
using RingKv.Node.Internode.Grpc;
using RingKv.Node.Membership;
using RingKv.Node.Observability;
using RingKv.Node.Security;
using RingKv.Node.Security.Tls;
using RingKv.Node.Tombstones;
using RingKv.Storage;
using RingKv.Storage.Hints;
using RingKv.Storage.Memory;

namespace RingKv.Node.Tests.Tombstones;

/// <summary>The replica's own check before it purges: each unsafe condition alone makes it refuse and remove nothing.</summary>
public sealed class TombstonePurgerTests : IAsyncDisposable
{
    private const long Epoch = 5;
    private readonly MemoryEngine _engine = new();
    private readonly IHintStore _hints = HintStore.InMemory(HintStoreLimits.Default, TimeProvider.System);
    private readonly ClusterView _view = new();
    private readonly NodeOptions _options = new() { TombstoneGrace = TimeSpan.FromSeconds(2) };
    private readonly QuietReport _quiet;
    private readonly GrpcReplicaTransport _peers;
    private readonly TombstoneCensus _census = new(TimeProvider.System);
    private readonly TombstonePurger _purger;
    private readonly TokenRange _range;

    public TombstonePurgerTests()
    {
        _quiet = new QuietReport(_options, TimeProvider.System);
        _peers = new GrpcReplicaTransport(_view, new HybridLogicalClock(TimeProvider.System), _options, new NodeMetrics(), ClusterSecret.None, ClusterTls.None);
        _purger = new TombstonePurger(_engine, _hints, _view, _quiet, _peers, _options, _census, TimeProvider.System, NullLogger<TombstonePurger>.Instance);
        var members = new[] { "n1", "n2", "n3" }.Select((id, i) =>
            new ClusterMember(id, (uint)i + 1, "http://127.0.0.1:1", "http://127.0.0.1:2", MemberState.Up, [((ulong)i + 1) * (ulong.MaxValue / 4)])).ToArray();
        Install(new ClusterMap(Epoch, 3, members, 3));
        _view.SetSelf("n1");
        _quiet.Record(Epoch, quiet: true);
        _range = _view.Map!.Ring.Ranges(3)[0].Range;
    }

    [Fact]
    public async Task PurgesListedTombstonesPastTheGracePeriodWhenEverythingIsSafe()
    {
        var tombstones = await WriteTombstonesAsync(ageSeconds: 10);
        var (purged, refused) = await _purger.PurgeLocalAsync(_range, Epoch, tombstones);
        Assert.Null(refused);
        Assert.Equal(tombstones.Count, purged);
        Assert.All(tombstones, t => Assert.Null(_engine.Get(t.Key)));
        Assert.Equal(tombstones.Count, _census.Purged);
    }

    [Fact]
    public async Task RefusesWhenTheCoordinatorDoesNotSayTheClusterIsQuiet()
    {
        var tombstones = await WriteTombstonesAsync(ageSeconds: 10);
        _quiet.Record(Epoch, quiet: false);
        await AssertRefusedAsync(tombstones, Epoch, "not quiet");
        _quiet.Record(Epoch - 1, quiet: true);
        await AssertRefusedAsync(tombstones, Epoch, "epoch");
    }

    [Fact]
    public async Task RefusesWhenAskedAtAnotherEpoch()
    {
        var tombstones = await WriteTombstonesAsync(ageSeconds: 10);
        await AssertRefusedAsync(tombstones, Epoch - 1, "epoch");
    }

    [Fact]
    public async Task RefusesWhenAReplicaOfTheRangeIsNotUp()
    {
        var tombstones = await WriteTombstonesAsync(ageSeconds: 10);
        var suspect = _view.Map!.WithState("n3", MemberState.Suspect);
        Install(suspect);
        _quiet.Record(suspect.Epoch, quiet: true);
        await AssertRefusedAsync(tombstones, suspect.Epoch, "not every replica");
    }

    [Fact]
    public async Task RefusesWhileThisNodeHoldsHints()
    {
        var tombstones = await WriteTombstonesAsync(ageSeconds: 10);
        Assert.True(await _hints.AddAsync("n2", tombstones[0] with { Deleted = false }));
        await AssertRefusedAsync(tombstones, Epoch, "hints");
    }

    [Fact]
    public async Task RefusesATombstoneYoungerThanItsOwnGracePeriodOrAnEntryThatIsNotATombstone()
    {
        var young = await WriteTombstonesAsync(ageSeconds: 0);
        await AssertRefusedAsync(young, Epoch, "younger");
        var old = await WriteTombstonesAsync(ageSeconds: 10);
        await AssertRefusedAsync([.. old, old[0] with { Deleted = false }], Epoch, "not a tombstone");
    }

    private async Task AssertRefusedAsync(List<StoredEntry> tombstones, long epoch, string because)
    {
        var (purged, refused) = await _purger.PurgeLocalAsync(_range, epoch, tombstones);
        Assert.Equal(0, purged);
        Assert.NotNull(refused);
        Assert.Contains(because, refused, StringComparison.Ordinal);
        Assert.All(tombstones.Where(t => t.Deleted), t => Assert.True(_engine.Get(t.Key) is { Deleted: true }, $"{t.Key} was removed"));
        Assert.Equal(refused, _census.LastRefusal);
    }

    /// <summary>Tombstones of keys in the range, stamped this many seconds ago.</summary>
    private async Task<List<StoredEntry>> WriteTombstonesAsync(int ageSeconds)
    {
        var stamp = (ulong)DateTimeOffset.UtcNow.AddSeconds(-ageSeconds).ToUnixTimeMilliseconds() << HybridLogicalClock.LogicalBits;
        var tombstones = Enumerable.Range(0, 1000).Select(i => $"purge/{ageSeconds}/{i}")
            .Where(key => _range.Contains(KeyToken.Of(key))).Take(10)
            .Select(key => StoredEntry.Tombstone(key, KeyToken.Of(key), new EntryVersion(stamp, 1))).ToList();
        Assert.NotEmpty(tombstones);
        foreach (var tombstone in tombstones)
        {
            await _engine.WriteAsync(tombstone, WritePrecondition.None);
        }
        return tombstones;
    }

    private void Install(ClusterMap map) => Assert.True(_view.TryInstall(map));

    public async ValueTask DisposeAsync()
    {
        await _peers.DisposeAsync();
        await _hints.DisposeAsync();
        await _engine.DisposeAsync();
    }
}
