namespace RingKv.Storage;

/// <summary>
/// Watches the free space of the disk that holds a data directory, once a second, so writes are
/// refused while some reserve is still left (<c>--min-free-disk</c>) and RocksDB itself rarely runs
/// into a full disk: a write it cannot append puts it into a read-only error state that only a
/// reopen clears (<see cref="RocksDb.RocksDbEngine"/>). A check is one statvfs(2) call.
/// </summary>
public sealed class FreeSpaceGuard : IDisposable
{
    /// <summary>Default reserve: 64 MiB, room for the memtables RocksDB flushes and a compaction's first output.</summary>
    public const long DefaultReserveBytes = 64L * 1024 * 1024;

    /// <summary>How often the free space is measured.</summary>
    public static TimeSpan CheckInterval { get; } = TimeSpan.FromSeconds(1);

    private readonly string _directory;
    private readonly Func<string, long> _probe;
    private readonly ITimer? _timer;
    private long _freeBytes = long.MaxValue;

    /// <param name="probe">Free bytes for a directory; the default asks the file system (tests pass their own).</param>
    /// <param name="time">Null: no timer, the owner calls <see cref="Refresh"/> (tests).</param>
    public FreeSpaceGuard(string directory, long reserveBytes, TimeProvider? time, Func<string, long>? probe = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(reserveBytes);
        Directory.CreateDirectory(directory);
        _directory = directory;
        ReserveBytes = reserveBytes;
        _probe = probe ?? AvailableBytes;
        Refresh();
        _timer = time?.CreateTimer(static state => ((FreeSpaceGuard)state!).Refresh(), this, CheckInterval, CheckInterval);
    }

    public long ReserveBytes { get; }

    /// <summary>Free bytes (for an unprivileged process) at the last check.</summary>
    public long FreeBytes => Interlocked.Read(ref _freeBytes);

    /// <summary>Less free space than the reserve at the last check.</summary>
    public bool BelowReserve => FreeBytes < ReserveBytes;

    /// <summary>Measures again now. A failed measurement keeps the last one.</summary>
    public void Refresh()
    {
        try
        {
            Interlocked.Exchange(ref _freeBytes, _probe(_directory));
        }
        catch (IOException)
        {
            // The file system could not say (it is failing, or the directory went away): the
            // engine's own errors will tell.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>statvfs(2) of the directory's file system: DriveInfo takes any path on Unix.</summary>
    private static long AvailableBytes(string directory) => new DriveInfo(directory).AvailableFreeSpace;

    public void Dispose() => _timer?.Dispose();
}
