using System.Text;
using RingKv.Core.Hashing;
using RingKv.Core.Versioning;
using RingKv.Storage.RocksDb;
using RingKv.Testing;

namespace RingKv.Storage.Tests.RocksDb;

/// <summary>
/// A disk that fills up or fails never costs an acknowledged write: the engine refuses what it
/// cannot persist, fails (never acknowledges) a write whose write or sync failed, and opens its
/// database again from the write-ahead log, without a restart. Failures the kernel gives no way to
/// cause on demand are injected at the engine's fault points.
/// </summary>
public sealed class StorageFailureTests : IDisposable
{
    private const long Reserve = 64L * 1024 * 1024;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    private readonly TempDirectory _directory = new("storage-failure");
    private long _free = 10 * Reserve;

    private FreeSpaceGuard Guard() => new(_directory.Path, Reserve, time: null, probe: _ => Interlocked.Read(ref _free));

    [Fact]
    public void GuardMeasuresTheFreeSpaceOfTheDataDisk()
    {
        using var guard = new FreeSpaceGuard(_directory.Path, 0, time: null);
        Assert.True(guard.FreeBytes > 0, $"free bytes of {_directory.Path}: {guard.FreeBytes}");
        Assert.False(guard.BelowReserve);
    }

    [Fact]
    public async Task BelowTheReserveWritesAreRefusedReadsServedAndAcceptedAgainOnceSpaceIsFreed()
    {
        using var guard = Guard();
        await using var engine = RocksDbEngine.Open(_directory.Combine("db"), FsyncMode.Batch, TimeProvider.System, guard);
        await engine.WriteAsync(Entry("kept", "v1", 10), WritePrecondition.None);

        Interlocked.Exchange(ref _free, Reserve - 1);
        guard.Refresh();
        var refused = await Assert.ThrowsAsync<StorageRefusedException>(async () => await engine.WriteAsync(Entry("refused", "v", 11), WritePrecondition.None));
        Assert.Equal(StorageState.Full, refused.State);
        await Assert.ThrowsAsync<StorageRefusedException>(async () => await engine.WriteAllAsync([Entry("refused-too", "v", 11)], WriteDurability.Logged));
        var status = engine.GetStorageStatus();
        Assert.Equal((StorageState.Full, Reserve - 1, Reserve), (status.State, status.FreeBytes, status.ReserveBytes));
        Assert.Contains("--min-free-disk", status.Reason, StringComparison.Ordinal);
        Assert.Equal("v1", Text(engine.Get("kept")));
        Assert.Null(engine.Get("refused"));

        Interlocked.Exchange(ref _free, Reserve);
        guard.Refresh();
        await engine.WriteAsync(Entry("after", "v2", 12), WritePrecondition.None);
        Assert.Equal("v2", Text(engine.Get("after")));
        Assert.Equal((StorageState.Ok, 0L), (engine.GetStorageStatus().State, engine.GetStorageStatus().Reopens));
    }

    [Fact]
    public async Task FailedSyncIsNeverAcknowledgedAndTheEngineReopensFromItsLog()
    {
        using var guard = Guard();
        await using var engine = RocksDbEngine.Open(_directory.Combine("db"), FsyncMode.Batch, TimeProvider.System, guard);
        await engine.WriteAsync(Entry("before", "v1", 10), WritePrecondition.None);
        var syncs = 0;
        engine.Fault = point =>
        {
            if (point == RocksDbEngine.FaultPoint.Sync && Interlocked.Increment(ref syncs) == 1)
            {
                throw new IOException("Input/output error (injected: fdatasync failed)");
            }
        };

        var failed = await Assert.ThrowsAsync<StorageRefusedException>(async () => await engine.WriteAsync(Entry("unsynced", "v2", 11), WritePrecondition.None));
        Assert.Equal(StorageState.Recovering, failed.State);
        Assert.Contains("injected", failed.Message, StringComparison.Ordinal);

        await Eventually.WaitUntilAsync(() => Task.FromResult(engine.GetStorageStatus() is { State: StorageState.Ok, Reopens: 1 }), Deadline,
            () => $"engine not reopened: {engine.GetStorageStatus()}");
        // The sync that failed was not tried again as if it had worked: the next one is a new sync
        // of the reopened database.
        await engine.WriteAsync(Entry("after", "v3", 12), WritePrecondition.None);
        Assert.Equal(2, Volatile.Read(ref syncs));
        Assert.Equal("v1", Text(engine.Get("before")));
        Assert.Equal("v3", Text(engine.Get("after")));
    }

    [Fact]
    public async Task FailedWriteIsNeverAcknowledgedAndAFailedReopenIsRetried()
    {
        using var guard = Guard();
        await using var engine = RocksDbEngine.Open(_directory.Combine("db"), FsyncMode.Batch, TimeProvider.System, guard);
        await engine.WriteAsync(Entry("before", "v1", 10), WritePrecondition.None);
        int writes = 0, opens = 0;
        engine.Fault = point =>
        {
            if ((point == RocksDbEngine.FaultPoint.Write && Interlocked.Increment(ref writes) == 1) ||
                (point == RocksDbEngine.FaultPoint.Open && Interlocked.Increment(ref opens) == 1))
            {
                throw new IOException($"Input/output error (injected at {point})");
            }
        };

        // A replica's batch, acknowledged from the log: still not acknowledged when the log write failed.
        await Assert.ThrowsAsync<StorageRefusedException>(async () => await engine.WriteAllAsync([Entry("a", "x", 11), Entry("b", "y", 11)], WriteDurability.Logged));
        var during = await Assert.ThrowsAsync<StorageRefusedException>(async () => await engine.WriteAsync(Entry("during", "v", 11), WritePrecondition.None));
        Assert.Equal(StorageState.Recovering, during.State);

        await Eventually.WaitUntilAsync(() => Task.FromResult(engine.GetStorageStatus() is { State: StorageState.Ok, Reopens: 1 }), Deadline,
            () => $"engine not reopened after a failed open: {engine.GetStorageStatus()}, {Volatile.Read(ref opens)} opens tried");
        Assert.Equal(2, Volatile.Read(ref opens));
        await engine.WriteAsync(Entry("after", "v2", 12), WritePrecondition.None);
        Assert.Equal("v1", Text(engine.Get("before")));
        Assert.Equal("v2", Text(engine.Get("after")));
        Assert.Null(engine.Get("a"));
    }

    [Fact]
    public async Task OutOfSpaceKeepsServingReadsAndReopensOnceTheDiskHasRoom()
    {
        using var guard = Guard();
        await using var engine = RocksDbEngine.Open(_directory.Combine("db"), FsyncMode.Batch, TimeProvider.System, guard);
        await engine.WriteAsync(Entry("before", "v1", 10), WritePrecondition.None);
        var writes = 0;
        engine.Fault = point =>
        {
            if (point == RocksDbEngine.FaultPoint.Write && Interlocked.Increment(ref writes) == 1)
            {
                // What RocksDB says when an append meets ENOSPC; the guard had not noticed yet.
                Interlocked.Exchange(ref _free, 0);
                throw new IOException("IO error: No space left on device: While appending to file: 000004.log");
            }
        };

        var full = await Assert.ThrowsAsync<StorageRefusedException>(async () => await engine.WriteAsync(Entry("lost", "v", 11), WritePrecondition.None));
        Assert.Equal(StorageState.Full, full.State);
        Assert.Equal(StorageState.Full, engine.GetStorageStatus().State);
        var refused = await Assert.ThrowsAsync<StorageRefusedException>(async () => await engine.WriteAsync(Entry("refused", "v", 12), WritePrecondition.None));
        Assert.Equal(StorageState.Full, refused.State);
        // The database is kept open for reads while the disk is full.
        Assert.Equal("v1", Text(engine.Get("before")));
        Assert.Single(engine.Scan(ScanPosition.Start));

        Interlocked.Exchange(ref _free, 10 * Reserve);
        await Eventually.WaitUntilAsync(() => Task.FromResult(engine.GetStorageStatus() is { State: StorageState.Ok, Reopens: 1 }), Deadline,
            () => $"engine did not take writes again once the disk had room: {engine.GetStorageStatus()}");
        await engine.WriteAsync(Entry("after", "v2", 13), WritePrecondition.None);
        Assert.Equal("v1", Text(engine.Get("before")));
        Assert.Equal("v2", Text(engine.Get("after")));
        Assert.Null(engine.Get("lost"));
    }

    private static StoredEntry Entry(string key, string value, ulong timestamp) =>
        new(key, KeyToken.Of(key), Encoding.UTF8.GetBytes(value), StoredEntry.DefaultContentType, new EntryVersion(timestamp, 1), Deleted: false, ExpiresAtMs: 0);

    private static string? Text(StoredEntry? entry) => entry is null ? null : Encoding.UTF8.GetString(entry.Value);

    public void Dispose() => _directory.Dispose();
}
