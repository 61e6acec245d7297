using System.Collections.Concurrent;
using System.Text;

namespace RingKv.Storage.Memory;

/// <summary>
/// The <c>memory</c> engine: a concurrent hash map, for tests and caches. Nothing survives the
/// process. Writes are lock-free compare-and-swap loops, so the version check and the
/// precondition are atomic with the write.
/// </summary>
public sealed class MemoryEngine(TimeProvider time) : IStorageEngine
{
    private readonly ConcurrentDictionary<string, StoredEntry> _entries = new(StringComparer.Ordinal);
    private long _bytes;

    public MemoryEngine()
        : this(TimeProvider.System)
    {
    }

    public string Name => "memory";

    public ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, CancellationToken cancellationToken = default)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        while (true)
        {
            if (!_entries.TryGetValue(entry.Key, out var current))
            {
                if (!precondition.IsSatisfiedBy(null, nowMs))
                {
                    return ValueTask.FromResult(new WriteResult(WriteStatus.PreconditionFailed, default));
                }
                if (_entries.TryAdd(entry.Key, entry))
                {
                    Interlocked.Add(ref _bytes, SizeOf(entry));
                    return ValueTask.FromResult(new WriteResult(WriteStatus.Applied, entry.Version));
                }
                continue;
            }
            if (!precondition.IsSatisfiedBy(current, nowMs))
            {
                return ValueTask.FromResult(new WriteResult(WriteStatus.PreconditionFailed, current.Version));
            }
            if (entry.Version <= current.Version)
            {
                return ValueTask.FromResult(new WriteResult(WriteStatus.Stale, current.Version));
            }
            if (_entries.TryUpdate(entry.Key, entry, current))
            {
                Interlocked.Add(ref _bytes, SizeOf(entry) - SizeOf(current));
                return ValueTask.FromResult(new WriteResult(WriteStatus.Applied, entry.Version));
            }
        }
    }

    public StoredEntry? Get(string key) => _entries.TryGetValue(key, out var entry) ? entry : null;

    public IEnumerable<StoredEntry> Scan(ScanPosition after, ulong lastToken = ulong.MaxValue)
    {
        // A hash map has no order: take a snapshot of the matching entries and sort it. Fine for
        // the engine's purpose (tests, caches); rocksdb iterates its sorted keys instead.
        var matching = new List<(byte[] Key, StoredEntry Entry)>();
        foreach (var (_, entry) in _entries)
        {
            if (entry.Token > lastToken)
            {
                continue;
            }
            var keyBytes = Encoding.UTF8.GetBytes(entry.Key);
            if (after.IsBefore(entry.Token, keyBytes))
            {
                matching.Add((keyBytes, entry));
            }
        }
        matching.Sort(static (a, b) =>
        {
            var byToken = a.Entry.Token.CompareTo(b.Entry.Token);
            return byToken != 0 ? byToken : a.Key.AsSpan().SequenceCompareTo(b.Key);
        });
        foreach (var (_, entry) in matching)
        {
            yield return entry;
        }
    }

    public EngineStats GetStats() => new(_entries.Count, Interlocked.Read(ref _bytes));

    public ValueTask DeleteAllAsync()
    {
        _entries.Clear();
        Interlocked.Exchange(ref _bytes, 0);
        return ValueTask.CompletedTask;
    }

    public ValueTask DeleteTokensAsync(ulong firstToken, ulong lastToken)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.Token >= firstToken && entry.Token <= lastToken && _entries.TryRemove(new KeyValuePair<string, StoredEntry>(key, entry)))
            {
                Interlocked.Add(ref _bytes, -SizeOf(entry));
            }
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask<long> PurgeTombstonesAsync(IReadOnlyList<StoredEntry> tombstones)
    {
        long purged = 0;
        foreach (var tombstone in tombstones)
        {
            // Removing the exact pair is the compare-and-swap: a write that replaced the tombstone
            // after it was read makes the removal fail, and the newer entry stays.
            if (_entries.TryGetValue(tombstone.Key, out var current) && current.Deleted && current.Version == tombstone.Version &&
                _entries.TryRemove(new KeyValuePair<string, StoredEntry>(tombstone.Key, current)))
            {
                Interlocked.Add(ref _bytes, -SizeOf(current));
                purged++;
            }
        }
        return ValueTask.FromResult(purged);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static long SizeOf(StoredEntry entry) => (entry.Key.Length * 2) + entry.Value.Length;
}
