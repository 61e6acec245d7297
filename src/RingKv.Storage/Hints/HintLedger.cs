namespace RingKv.Storage.Hints;

/// <summary>
/// The counts behind the bounds and the stats, shared by both stores so they refuse, expire and
/// report alike. Admission reserves room before the hint is written: checking the bounds and
/// taking the room in one step is what keeps concurrent adders from overshooting them together.
/// </summary>
internal sealed class HintLedger(HintStoreLimits limits)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, HintBacklog> _owners = new(StringComparer.Ordinal);
    private long _hints;
    private long _bytes;
    private long _dropped;
    private long _expired;

    /// <summary>Takes room for one hint of <paramref name="bytes"/>, or counts a drop and returns false.</summary>
    public bool TryAdmit(string ownerId, long bytes)
    {
        lock (_gate)
        {
            if (_hints >= limits.MaxHints || bytes > limits.MaxBytes - _bytes)
            {
                _dropped++;
                return false;
            }
            Add(ownerId, bytes);
            return true;
        }
    }

    /// <summary>
    /// Counts a hint found on disk at open, bounds or not: if the limits were lowered since, the
    /// hints already acknowledged as durable stay and new ones are refused until there is room.
    /// </summary>
    public void Restore(string ownerId, long bytes)
    {
        lock (_gate)
        {
            Add(ownerId, bytes);
        }
    }

    /// <summary>Gives back the room of a hint that was removed, expired, or failed to be written.</summary>
    public void Release(string ownerId, long bytes, bool expired)
    {
        lock (_gate)
        {
            var backlog = _owners[ownerId];
            backlog = new HintBacklog(backlog.Hints - 1, backlog.Bytes - bytes);
            if (backlog.Hints == 0)
            {
                _owners.Remove(ownerId);
            }
            else
            {
                _owners[ownerId] = backlog;
            }
            _hints--;
            _bytes -= bytes;
            if (expired)
            {
                _expired++;
            }
        }
    }

    public IReadOnlyList<string> Owners()
    {
        lock (_gate)
        {
            var owners = _owners.Keys.ToArray();
            Array.Sort(owners, StringComparer.Ordinal);
            return owners;
        }
    }

    public HintStats Snapshot()
    {
        lock (_gate)
        {
            return new HintStats(_hints, _bytes, new Dictionary<string, HintBacklog>(_owners, StringComparer.Ordinal), _dropped, _expired);
        }
    }

    private void Add(string ownerId, long bytes)
    {
        _owners.TryGetValue(ownerId, out var backlog);
        _owners[ownerId] = new HintBacklog(backlog.Hints + 1, backlog.Bytes + bytes);
        _hints++;
        _bytes += bytes;
    }
}
