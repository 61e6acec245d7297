using System.Text.Json;

namespace RingKv.Coordinator.Membership;

/// <summary>
/// Ids of members that were evicted, kept in the coordinator's data directory. A process that
/// comes back under such an id holds data from before its eviction (possibly stale, possibly keys
/// deleted since), so it is never re-admitted as that member: it joins as a new one, empty.
/// </summary>
public sealed class EvictedMembers
{
    private readonly string _path;
    private readonly HashSet<string> _ids;

    public EvictedMembers(string dataDirectory)
    {
        _path = Path.Combine(dataDirectory, "evicted-members.json");
        _ids = File.Exists(_path) ? JsonSerializer.Deserialize<HashSet<string>>(File.ReadAllBytes(_path)) ?? [] : [];
    }

    public bool Contains(string id)
    {
        lock (_ids)
        {
            return _ids.Contains(id);
        }
    }

    public void Add(string id)
    {
        lock (_ids)
        {
            if (!_ids.Add(id))
            {
                return;
            }
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
