namespace RingKv.Storage.Hints;

/// <summary>
/// The hint store of the <c>memory</c> engine: sorted maps per owner under one lock. Nothing
/// survives the process, and nothing needs to: the data it would replay is gone too.
/// </summary>
/// <remarks>
/// Sizes are measured with the rocksdb layout (<see cref="HintCodec"/>) so both stores fill up at
/// the same hint under the same <see cref="HintStoreLimits"/>.
/// </remarks>
public sealed class MemoryHintStore : IHintStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, SortedDictionary<long, Held>> _owners = new(StringComparer.Ordinal);
    private readonly HintLedger _ledger;
    private readonly HintStoreLimits _limits;
    private readonly TimeProvider _time;
    private long _nextSequence;

    public MemoryHintStore(HintStoreLimits limits, TimeProvider time)
    {
        limits.Validate();
        _limits = limits;
        _time = time;
        _ledger = new HintLedger(limits);
    }

    public ValueTask<bool> AddAsync(string ownerId, StoredEntry entry, CancellationToken cancellationToken = default)
    {
        HintCodec.ValidateOwner(ownerId);
        cancellationToken.ThrowIfCancellationRequested();
        var createdAtMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var bytes = HintCodec.EncodePrefix(ownerId).Length + HintCodec.SequenceBytes + HintCodec.EncodeValue(entry, createdAtMs).Length;
        lock (_gate)
        {
            if (!_ledger.TryAdmit(ownerId, bytes))
            {
                return ValueTask.FromResult(false);
            }
            if (!_owners.TryGetValue(ownerId, out var hints))
            {
                hints = [];
                _owners[ownerId] = hints;
            }
            var sequence = _nextSequence++;
            hints[sequence] = new Held(new Hint(ownerId, sequence, entry, DateTimeOffset.FromUnixTimeMilliseconds(createdAtMs)), bytes);
        }
        return ValueTask.FromResult(true);
    }

    public IReadOnlyList<Hint> Peek(string ownerId, int max)
    {
        HintCodec.ValidateOwner(ownerId);
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var result = new List<Hint>(Math.Min(max, 1024));
        lock (_gate)
        {
            if (max == 0 || !_owners.TryGetValue(ownerId, out var hints))
            {
                return result;
            }
            List<long>? expired = null;
            foreach (var (sequence, held) in hints)
            {
                if (_limits.IsExpired(held.Hint.CreatedAt.ToUnixTimeMilliseconds(), nowMs))
                {
                    (expired ??= []).Add(sequence);
                    continue;
                }
                result.Add(held.Hint);
                if (result.Count == max)
                {
                    break;
                }
            }
            foreach (var sequence in expired ?? [])
            {
                Discard(ownerId, hints, sequence, expired: true);
            }
        }
        return result;
    }

    public bool Remove(Hint hint)
    {
        ArgumentNullException.ThrowIfNull(hint);
        lock (_gate)
        {
            return _owners.TryGetValue(hint.OwnerId, out var hints) && Discard(hint.OwnerId, hints, hint.Sequence, expired: false);
        }
    }

    public int RemoveThrough(string ownerId, long sequence)
    {
        HintCodec.ValidateOwner(ownerId);
        lock (_gate)
        {
            if (!_owners.TryGetValue(ownerId, out var hints))
            {
                return 0;
            }
            var through = hints.Keys.TakeWhile(s => s <= sequence).ToList();
            foreach (var s in through)
            {
                Discard(ownerId, hints, s, expired: false);
            }
            return through.Count;
        }
    }

    public int PurgeExpired()
    {
        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var purged = 0;
        lock (_gate)
        {
            foreach (var (ownerId, hints) in _owners.ToList())
            {
                // Arrival order is creation order, so the expired hints of an owner are its oldest.
                var expired = hints
                    .TakeWhile(pair => _limits.IsExpired(pair.Value.Hint.CreatedAt.ToUnixTimeMilliseconds(), nowMs))
                    .Select(pair => pair.Key)
                    .ToList();
                foreach (var sequence in expired)
                {
                    Discard(ownerId, hints, sequence, expired: true);
                }
                purged += expired.Count;
            }
        }
        return purged;
    }

    public IReadOnlyList<string> Owners() => _ledger.Owners();

    public HintStats GetStats() => _ledger.Snapshot();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private bool Discard(string ownerId, SortedDictionary<long, Held> hints, long sequence, bool expired)
    {
        if (!hints.Remove(sequence, out var held))
        {
            return false;
        }
        if (hints.Count == 0)
        {
            _owners.Remove(ownerId);
        }
        _ledger.Release(ownerId, held.Bytes, expired);
        return true;
    }

    private sealed record Held(Hint Hint, long Bytes);
}
