namespace RingKv.Storage.RocksDb;

/// <summary>
/// The stored version of recently written keys, kept by the committer so that checking a write
/// against the stored version (last writer wins) does not need a RocksDB read for a key written a
/// moment ago. Overwrites of hot keys are the common case under load, and a memtable lookup is a
/// skip-list walk of cache misses that cost more than the rest of the write.
/// </summary>
/// <remarks>
/// Exact, not a hint: only the committer, the single writer of the database, reads and updates it,
/// and it records exactly what the committer wrote. Anything that changes stored entries other than
/// a plain write forgets what it touched: a range deletion its keys, a purge its tombstones, a failed batch everything. Bounded: when full it starts over between batches,
/// which keeps the cost constant and the memory to a few megabytes; a miss falls back to RocksDB.
/// </remarks>
internal sealed class RecentVersions(int capacity)
{
    private readonly Dictionary<string, (EntryHeader Header, ulong Token)> _headers = new(StringComparer.Ordinal);

    public bool TryGet(string key, out EntryHeader header)
    {
        var found = _headers.TryGetValue(key, out var known);
        header = known.Header;
        return found;
    }

    /// <summary>Records a write of the batch being built; it must stay known until the batch is written.</summary>
    public void Record(StoredEntry entry) => _headers[entry.Key] = (EntryHeader.Of(entry), entry.Token);

    /// <summary>Between batches: starts over once past capacity (never mid-batch, whose writes are not in the database yet).</summary>
    public void Trim()
    {
        if (_headers.Count > capacity)
        {
            _headers.Clear();
        }
    }

    /// <summary>Forgets the keys of a deleted token range (the rest of the batch may still depend on the others).</summary>
    public void ForgetTokens(ulong first, ulong last)
    {
        foreach (var (key, known) in _headers)
        {
            if (known.Token >= first && known.Token <= last)
            {
                _headers.Remove(key);
            }
        }
    }

    /// <summary>Forgets a key whose entry is removed (a purged tombstone): it is no longer stored at any version.</summary>
    public void Forget(string key) => _headers.Remove(key);

    public void Clear() => _headers.Clear();
}
