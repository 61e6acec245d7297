using System.Text.Json;

namespace RingKv.Coordinator.Membership;

/// <summary>
/// Ids of members that left the ring, kept in the coordinator's data directory. A process that
/// comes back under such an id holds data from before (possibly stale, possibly keys deleted
/// since), so it is never re-admitted as that member. An evicted member (it died) may join again
/// as a new, empty member; a removed one (decommissioned by an operator, or its join rolled back)
/// stays out until an operator starts it afresh.
/// </summary>
public sealed class EvictedMembers
{
    private readonly string _path;
    private readonly Dictionary<string, bool> _ids;

    public EvictedMembers(string dataDirectory)
    {
        _path = Path.Combine(dataDirectory, "departed-members.json");
        _ids = File.Exists(_path) ? JsonSerializer.Deserialize<Dictionary<string, bool>>(File.ReadAllBytes(_path)) ?? [] : [];
    }

    public bool Contains(string id)
    {
        lock (_ids)
        {
            return _ids.ContainsKey(id);
        }
    }

    /// <summary>True when the member was removed on purpose (not evicted): it must not rejoin by itself.</summary>
    public bool WasRemoved(string id)
    {
        lock (_ids)
        {
            return _ids.GetValueOrDefault(id);
        }
    }

    public void Add(string id, bool removed = false)
    {
        lock (_ids)
        {
            if (_ids.TryGetValue(id, out var known) && known == removed)
            {
                return;
            }
            _ids[id] = removed;
            var temporary = _path + ".tmp";
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                JsonSerializer.Serialize(file, _ids);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, _path, overwrite: true);
        }
    }
}
