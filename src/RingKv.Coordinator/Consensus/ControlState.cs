using System.Text.Json;
using RingKv.Core.Cluster;

namespace RingKv.Coordinator.Consensus;

/// <summary>
/// Everything the coordinator decides and must not forget: the cluster map, the ids that left the
/// ring (an evicted or removed member is never re-admitted under its old id), the nodes the group
/// started and supervises, and the re-replications still owed after an eviction. It is the state
/// machine of the coordinators' log: every entry is a whole state, so applying an entry twice, or
/// a log from its start, gives the same state (Raft may replay entries after a restart).
/// </summary>
/// <param name="Launched">Nodes the group started on this host: member id to the process id it last joined with.</param>
/// <param name="Repairs">Evictions whose copies are not yet rebuilt: a new leader plans them again.</param>
public sealed record ControlState(
    ClusterMap Map,
    IReadOnlyDictionary<string, bool> Departed,
    IReadOnlyDictionary<string, int> Launched,
    IReadOnlyList<PendingRepair> Repairs)
{
    public static ControlState Create(int replicationFactor) => new(ClusterMap.Create(replicationFactor), new Dictionary<string, bool>(), new Dictionary<string, int>(), []);

    public ControlState WithMap(ClusterMap map) => this with { Map = map };

    public ControlState WithDeparted(string id, bool removed)
    {
        var departed = new Dictionary<string, bool>(Departed, StringComparer.Ordinal) { [id] = removed };
        var launched = new Dictionary<string, int>(Launched, StringComparer.Ordinal);
        launched.Remove(id);
        return this with { Departed = departed, Launched = launched };
    }

    public ControlState WithLaunched(string id, int processId) =>
        this with { Launched = new Dictionary<string, int>(Launched, StringComparer.Ordinal) { [id] = processId } };

    public ControlState WithRepair(PendingRepair repair) => this with { Repairs = [.. Repairs.Where(r => r.EvictedId != repair.EvictedId), repair] };

    public ControlState WithoutRepair(string evictedId) => this with { Repairs = [.. Repairs.Where(r => r.EvictedId != evictedId)] };

    public byte[] ToUtf8Json()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WritePropertyName("map");
            json.WriteRawValue(Map.ToUtf8Json());
            json.WriteStartObject("departed");
            foreach (var (id, removed) in Departed.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteBoolean(id, removed);
            }
            json.WriteEndObject();
            json.WriteStartObject("launched");
            foreach (var (id, pid) in Launched.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                json.WriteNumber(id, pid);
            }
            json.WriteEndObject();
            json.WriteStartArray("repairs");
            foreach (var repair in Repairs)
            {
                json.WriteStartObject();
                json.WriteString("evicted", repair.EvictedId);
                json.WritePropertyName("before");
                json.WriteRawValue(repair.Before.ToUtf8Json());
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    public static ControlState FromJson(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        using var document = JsonDocument.ParseValue(ref reader);
        var root = document.RootElement;
        var map = ClusterMap.FromJson(root.GetProperty("map").GetRawText());
        var departed = new Dictionary<string, bool>(StringComparer.Ordinal);
        if (root.TryGetProperty("departed", out var departedJson))
        {
            foreach (var property in departedJson.EnumerateObject())
            {
                departed[property.Name] = property.Value.GetBoolean();
            }
        }
        var launched = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.TryGetProperty("launched", out var launchedJson))
        {
            foreach (var property in launchedJson.EnumerateObject())
            {
                launched[property.Name] = property.Value.GetInt32();
            }
        }
        var repairs = new List<PendingRepair>();
        if (root.TryGetProperty("repairs", out var repairsJson))
        {
            foreach (var repair in repairsJson.EnumerateArray())
            {
                repairs.Add(new PendingRepair(repair.GetProperty("evicted").GetString()!, ClusterMap.FromJson(repair.GetProperty("before").GetRawText())));
            }
        }
        return new ControlState(map, departed, launched, repairs);
    }
}

/// <summary>An eviction whose lost copies are still being rebuilt: the map before it says which ranges lost a copy.</summary>
public sealed record PendingRepair(string EvictedId, ClusterMap Before);
