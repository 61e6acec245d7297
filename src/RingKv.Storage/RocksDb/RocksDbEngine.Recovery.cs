using RocksDbSharp;

namespace RingKv.Storage.RocksDb;

/// <summary>
/// What the engine does when its disk fills up or a write or sync fails: it stops acknowledging
/// writes at once, and opens the database again from its write-ahead log.
/// </summary>
/// <remarks>
/// RocksDB puts a database whose log append or sync failed into a read-only error state, and the
/// C API this binding wraps has no <c>Resume()</c>: closing and opening the database again clears
/// it, and replays the log, so the engine's contents are what reached the log on disk. A failed
/// sync is never retried as if it had worked (PostgreSQL's "fsyncgate": the kernel may have dropped
/// the pages it could not write, and a second fsync would succeed without them): the writes that
/// waited for it fail, and the reopen reads back what the disk really holds. Writes acknowledged
/// from the log before such a sync (<see cref="WriteDurability.Logged"/>) may be lost with it; their
/// coordinating node holds the synced copy, and anti-entropy copies it back.
/// <para>
/// Out of space, the open database still serves reads, so it is kept until the disk has room again
/// (<see cref="FreeSpaceGuard"/>), and only then reopened. Any other error reopens at once; reads
/// fail for the moment the database is closed (a replica that fails a read is replaced by another).
/// Readers hold a lease on the open database, so it is closed only once the last one is done.
/// </para>
/// </remarks>
public sealed partial class RocksDbEngine
{
    /// <summary>Where a test may inject a failure: before a batch is written, before the log is synced, before a reopen opens the files.</summary>
    internal enum FaultPoint
    {
        Write,
        Sync,
        Open,
    }

    /// <summary>Free space a disk that ran out must have again before the engine is reopened, whatever the reserve.</summary>
    public const long RoomAfterOutOfSpaceBytes = 8L * 1024 * 1024;

    /// <summary>For tests: called at each <see cref="FaultPoint"/>; throwing there fails that step as the disk would.</summary>
    internal Action<FaultPoint>? Fault { get; set; }

    public StorageStatus GetStorageStatus()
    {
        var reopens = Interlocked.Read(ref _reopens);
        var free = _guard?.FreeBytes;
        var reserve = _guard?.ReserveBytes ?? 0;
        switch ((StorageState)Volatile.Read(ref _condition))
        {
            case StorageState.Recovering:
                return new StorageStatus(StorageState.Recovering, free, reserve, reopens,
                    $"The storage engine is being reopened from its write-ahead log after a failed write or sync ({_lastError}). Retry shortly, or write through another node.");
            case StorageState.Full:
                return new StorageStatus(StorageState.Full, free, reserve, reopens,
                    $"The data disk ran out of space ({_lastError}). Free space on it, or add nodes; writes are accepted again once {Mib(Math.Max(reserve, RoomAfterOutOfSpaceBytes))} are free.");
        }
        if (_guard is { BelowReserve: true } guard)
        {
            return new StorageStatus(StorageState.Full, free, reserve, reopens,
                $"The data disk has {Mib(guard.FreeBytes)} free, less than the {Mib(reserve)} kept in reserve (--min-free-disk). Free space on it, or add nodes; writes are accepted again once it has room, without a restart.");
        }
        return new StorageStatus(StorageState.Ok, free, reserve, reopens, null);
    }

    private static string Mib(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " MiB";

    private void ThrowIfWritesRefused()
    {
        if (Volatile.Read(ref _condition) != (int)StorageState.Ok || _guard is { BelowReserve: true })
        {
            var status = GetStorageStatus();
            if (!status.AcceptsWrites)
            {
                throw StorageRefusedException.For(status);
            }
        }
    }

    private StorageRefusedException Refusal(StorageState state) =>
        new(state, GetStorageStatus() is { AcceptsWrites: false, Reason: { } reason } ? reason
            : "The storage engine is being reopened after a failed write or sync. Retry shortly, or write through another node.");

    /// <summary>A write or sync that failed in RocksDB (or the file system under it) as the writers see it: not stored.</summary>
    private static StorageRefusedException Refusal(Exception error) =>
        IsNoSpace(error)
            ? new(StorageState.Full, $"The data disk ran out of space; the write was not stored ({error.Message}).", error)
            : new(StorageState.Recovering, $"The storage engine failed a write or sync and is being reopened; the write was not acknowledged ({error.Message}).", error);

    private static bool IsStorageError(Exception error) => error is RocksDbException or IOException;

    /// <summary>ENOSPC, as RocksDB words it ("IO error: No space left on device", status subcode NoSpace).</summary>
    private static bool IsNoSpace(Exception error) =>
        error.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase) || error.Message.Contains("NoSpace", StringComparison.Ordinal);

    /// <summary>The open database, or a refusal while it is being reopened.</summary>
    private OpenDatabase Lease()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var open = _current;
        return open.TryAcquire() ? open : throw Refusal(StorageState.Recovering);
    }

    /// <summary>Stops acknowledging writes now, and starts the reopen unless one runs already.</summary>
    private void StartRecovery(Exception cause)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }
        lock (_recoveryLock)
        {
            if (!_recovery.IsCompleted)
            {
                return;
            }
            _lastError = cause.Message;
            var noSpace = IsNoSpace(cause);
            Volatile.Write(ref _condition, (int)(noSpace ? StorageState.Full : StorageState.Recovering));
            _recovery = Task.Run(() => RecoverAsync(noSpace, _stopping.Token));
        }
    }

    private async Task RecoverAsync(bool noSpace, CancellationToken cancellationToken)
    {
        if (noSpace)
        {
            // Reads still work on the open database: keep it until the disk has room again.
            await WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
        }
        Volatile.Write(ref _condition, (int)StorageState.Recovering);
        var old = _current;
        // Waits for readers, the committer and the syncer to let go of it; scans stop at their next entry.
        await old.RetireAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            try
            {
                Fault?.Invoke(FaultPoint.Open);
                _current = new OpenDatabase(OpenDatabaseFiles(_directory), old.Generation + 1);
                Interlocked.Increment(ref _reopens);
                _lastError = null;
                Volatile.Write(ref _condition, (int)StorageState.Ok);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Opening replays the log into a memtable and flushes it, which needs space too.
                _lastError = ex.Message;
                await Task.Delay(FreeSpaceGuard.CheckInterval, _time, cancellationToken).ConfigureAwait(false);
                if (IsNoSpace(ex))
                {
                    await WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// After the disk ran out: waits until it has the reserve free again, and at least
    /// <see cref="RoomAfterOutOfSpaceBytes"/> (without a reserve, any byte freed would do, and a
    /// reopen that finds the disk still full would close the database reads use for nothing).
    /// </summary>
    private async Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            _guard?.Refresh();
            if (_guard is null || _guard.FreeBytes >= Math.Max(_guard.ReserveBytes, RoomAfterOutOfSpaceBytes))
            {
                return;
            }
            await Task.Delay(FreeSpaceGuard.CheckInterval, _time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A batch handed to the syncer, with the generation of the database it was written to.</summary>
    private readonly record struct UnsyncedBatch(PendingWrite[] Writes, int Generation);

    /// <summary>
    /// One open RocksDB instance and the leases on it. The engine holds one lease itself; retiring
    /// gives it up, and whoever lets go of the last one closes the database.
    /// </summary>
    private sealed class OpenDatabase(RocksDbSharp.RocksDb db, int generation)
    {
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _leases = 1;
        private volatile bool _retired;

        public RocksDbSharp.RocksDb Db => db;

        public int Generation => generation;

        public bool Retired => _retired;

        public bool TryAcquire()
        {
            while (true)
            {
                var leases = Volatile.Read(ref _leases);
                if (leases == 0 || _retired)
                {
                    return false;
                }
                if (Interlocked.CompareExchange(ref _leases, leases + 1, leases) == leases)
                {
                    return true;
                }
            }
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _leases) == 0)
            {
                db.Dispose();
                _closed.TrySetResult();
            }
        }

        /// <summary>No new leases; completes once the database is closed.</summary>
        public Task RetireAsync()
        {
            if (!_retired)
            {
                _retired = true;
                Release();
            }
            return _closed.Task;
        }
    }
}
