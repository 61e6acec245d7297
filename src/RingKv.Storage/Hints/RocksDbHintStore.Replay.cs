using RocksDbSharp;

namespace RingKv.Storage.Hints;

/// <summary>Reading hints back in order, and deleting them once acknowledged or expired.</summary>
/// <remarks>
/// A queue in an LSM tree leaves a tombstone for every hint deleted, and a seek from the start of
/// an owner's keys would step over all of them until compaction: replaying a large backlog would
/// cost quadratic time (the reason Cassandra 3.0 moved hints out of a table). So each owner has a
/// floor, a sequence below which it has no hint, and reads seek from there. Floors only rise, and
/// a rise is always safe because new hints get sequences above every visible one.
/// Deletes are not fsynced: a delete lost in a crash only replays a hint again, which the owner's
/// last-writer-wins check makes harmless. They are serialized by one lock, so a hint removed twice
/// (a retried acknowledgement, an expiry racing a removal) gives its room back once.
/// </remarks>
public sealed partial class RocksDbHintStore
{
    private const int DeleteChunk = 1024;

    private readonly Lock _deleteGate = new();
    private readonly WriteOptions _lazyWrite = new WriteOptions().SetSync(false);

    public IReadOnlyList<Hint> Peek(string ownerId, int max)
    {
        HintCodec.ValidateOwner(ownerId);
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        ThrowIfDisposed();
        var result = new List<Hint>(Math.Min(max, DeleteChunk));
        if (max == 0)
        {
            return result;
        }
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var prefix = HintCodec.EncodePrefix(ownerId);
        var expired = new List<byte[]>();
        long? firstLive = null;
        var lastSeen = -1L;
        using (var iterator = _db.NewIterator())
        {
            for (iterator.Seek(HintCodec.EncodeKey(prefix, Floor(ownerId))); iterator.Valid(); iterator.Next())
            {
                var key = iterator.GetKeySpan();
                if (!key.StartsWith(prefix))
                {
                    break;
                }
                var value = iterator.GetValueSpan();
                lastSeen = HintCodec.SequenceOf(key);
                var createdAtMs = HintCodec.CreatedAtMsOf(value);
                if (_limits.IsExpired(createdAtMs, nowMs))
                {
                    expired.Add(key.ToArray());
                    DeleteIfFull(ownerId, expired, isExpiry: true);
                    continue;
                }
                firstLive ??= lastSeen;
                result.Add(new Hint(ownerId, lastSeen, HintCodec.DecodeEntry(value), DateTimeOffset.FromUnixTimeMilliseconds(createdAtMs)));
                if (result.Count == max)
                {
                    break;
                }
            }
        }
        Delete(ownerId, expired, isExpiry: true);
        if (lastSeen >= 0)
        {
            // Everything read before the first live hint was expired and is now deleted.
            RaiseFloor(ownerId, firstLive ?? lastSeen + 1);
        }
        return result;
    }

    public bool Remove(Hint hint)
    {
        ArgumentNullException.ThrowIfNull(hint);
        ThrowIfDisposed();
        if (Delete(hint.OwnerId, [HintCodec.EncodeKey(hint.OwnerId, hint.Sequence)], isExpiry: false) == 0)
        {
            return false;
        }
        // Hints are acknowledged in order, so this is usually the owner's oldest.
        if (Floor(hint.OwnerId) == hint.Sequence)
        {
            RaiseFloor(hint.OwnerId, hint.Sequence + 1);
        }
        return true;
    }

    public int RemoveThrough(string ownerId, long sequence)
    {
        HintCodec.ValidateOwner(ownerId);
        ThrowIfDisposed();
        var prefix = HintCodec.EncodePrefix(ownerId);
        var doomed = new List<byte[]>();
        var removed = 0;
        var lastSeen = -1L;
        using (var iterator = _db.NewIterator())
        {
            for (iterator.Seek(HintCodec.EncodeKey(prefix, Floor(ownerId))); iterator.Valid(); iterator.Next())
            {
                var key = iterator.GetKeySpan();
                if (!key.StartsWith(prefix) || HintCodec.SequenceOf(key) > sequence)
                {
                    break;
                }
                lastSeen = HintCodec.SequenceOf(key);
                doomed.Add(key.ToArray());
                removed += DeleteIfFull(ownerId, doomed, isExpiry: false);
            }
        }
        removed += Delete(ownerId, doomed, isExpiry: false);
        if (lastSeen >= 0)
        {
            // From what was seen, not from the argument: a floor past the next sequence would
            // hide the owner's future hints.
            RaiseFloor(ownerId, lastSeen + 1);
        }
        return removed;
    }

    public int PurgeExpired()
    {
        ThrowIfDisposed();
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var purged = 0;
        foreach (var ownerId in _ledger.Owners())
        {
            var prefix = HintCodec.EncodePrefix(ownerId);
            var expired = new List<byte[]>();
            var lastExpired = -1L;
            using (var iterator = _db.NewIterator())
            {
                for (iterator.Seek(HintCodec.EncodeKey(prefix, Floor(ownerId))); iterator.Valid(); iterator.Next())
                {
                    var key = iterator.GetKeySpan();
                    // Arrival order is creation order, so an owner's expired hints are its oldest:
                    // stop at the first one still young. A wall-clock step back only leaves an
                    // expired hint for the next read, which checks every hint it returns.
                    if (!key.StartsWith(prefix) || !_limits.IsExpired(HintCodec.CreatedAtMsOf(iterator.GetValueSpan()), nowMs))
                    {
                        break;
                    }
                    lastExpired = HintCodec.SequenceOf(key);
                    expired.Add(key.ToArray());
                    purged += DeleteIfFull(ownerId, expired, isExpiry: true);
                }
            }
            purged += Delete(ownerId, expired, isExpiry: true);
            if (lastExpired >= 0)
            {
                RaiseFloor(ownerId, lastExpired + 1);
            }
        }
        return purged;
    }

    private long Floor(string ownerId) => _floors.TryGetValue(ownerId, out var floor) ? floor : 0;

    private void RaiseFloor(string ownerId, long floor) =>
        _floors.AddOrUpdate(ownerId, static (_, raised) => raised, static (_, current, raised) => Math.Max(current, raised), floor);

    /// <summary>Deletes a full chunk early, so purging a large backlog never holds it all in memory.</summary>
    private int DeleteIfFull(string ownerId, List<byte[]> keys, bool isExpiry) =>
        keys.Count < DeleteChunk ? 0 : Delete(ownerId, keys, isExpiry);

    /// <summary>Deletes those of <paramref name="keys"/> still present, gives back their room, and clears the list.</summary>
    private int Delete(string ownerId, List<byte[]> keys, bool isExpiry)
    {
        if (keys.Count == 0)
        {
            return 0;
        }
        lock (_deleteGate)
        {
            using var batch = new WriteBatch();
            var sizes = new List<long>(keys.Count);
            foreach (var key in keys)
            {
                var valueLength = _db.Get(key, ValueLength.Instance);
                if (valueLength > 0)
                {
                    batch.Delete(key);
                    sizes.Add(key.Length + valueLength);
                }
            }
            keys.Clear();
            if (sizes.Count > 0)
            {
                _db.Write(batch, _lazyWrite);
                foreach (var size in sizes)
                {
                    _ledger.Release(ownerId, size, isExpiry);
                }
            }
            return sizes.Count;
        }
    }

    /// <summary>A stored value's length without copying it; 0 for a missing key, as no hint value is empty.</summary>
    private sealed class ValueLength : ISpanDeserializer<int>
    {
        public static readonly ValueLength Instance = new();

        public int Deserialize(ReadOnlySpan<byte> buffer) => buffer.Length;
    }
}
