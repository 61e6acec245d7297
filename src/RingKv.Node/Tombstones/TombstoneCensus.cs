using RingKv.Node.AntiEntropy;
using RingKv.Storage;

namespace RingKv.Node.Tombstones;

/// <summary>
/// How many tombstones this node holds and how old the oldest is, by a paced scan of its whole
/// replica after every anti-entropy round; and how many were purged. Counted by scanning rather
/// than kept current as writes land: the engines need no bookkeeping on their write path, and a
/// figure a round old is what an operator watching for unbounded growth needs.
/// </summary>
public sealed class TombstoneCensus(TimeProvider time)
{
    private const int PaceEvery = 1024;

    private Count? _last;
    private long _purged;
    private long _purgesRefused;
    private string? _lastRefusal;

    /// <summary>The last completed count; null before the first.</summary>
    public Count? Last => Volatile.Read(ref _last);

    /// <summary>Age of the oldest tombstone at the last count, as of now; null when there was none or no count yet.</summary>
    public long? OldestAgeMs => Last?.OldestWallMs is { } wall ? Math.Max(0, time.GetUtcNow().ToUnixTimeMilliseconds() - wall) : null;

    public long Purged => Interlocked.Read(ref _purged);

    public long PurgesRefused => Interlocked.Read(ref _purgesRefused);

    public void AddPurged(long count) => Interlocked.Add(ref _purged, count);

    /// <summary>Why this node last refused to purge; null if it never did.</summary>
    public string? LastRefusal => Volatile.Read(ref _lastRefusal);

    public void PurgeRefused(string reason)
    {
        Interlocked.Increment(ref _purgesRefused);
        Volatile.Write(ref _lastRefusal, reason);
    }

    public async Task CountAsync(IStorageEngine engine, ScanPacer pacer, CancellationToken cancellationToken)
    {
        long tombstones = 0;
        long scanned = 0;
        long? oldestMs = null;
        foreach (var entry in engine.Scan(ScanPosition.Start))
        {
            if (entry.Deleted)
            {
                tombstones++;
                var wallMs = entry.Version.WallMilliseconds;
                oldestMs = oldestMs is { } oldest ? Math.Min(oldest, wallMs) : wallMs;
            }
            if (++scanned % PaceEvery == 0)
            {
                await pacer.PaceAsync(PaceEvery, cancellationToken);
            }
        }
        Volatile.Write(ref _last, new Count(tombstones, oldestMs, time.GetUtcNow()));
    }

    /// <param name="OldestWallMs">Wall time of the oldest tombstone's version; null when there is none.</param>
    public sealed record Count(long Tombstones, long? OldestWallMs, DateTimeOffset CountedAt);
}
