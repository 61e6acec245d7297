using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RingKv.Core.Ring;

namespace RingKv.Cli.Backup;

/// <summary>What a backup or restore needs of the cluster: the serving ring, RF, epoch, and each node's URL and state.</summary>
public sealed record ClusterTopology(long Epoch, int ReplicationFactor, ConsistentHashRing Ring, IReadOnlyDictionary<string, ClusterTopology.Member> Members)
{
    public sealed record Member(string Id, Uri ClientUrl, string State)
    {
        public bool IsUp => State == "up";
    }

    public IEnumerable<Member> Up => Members.Values.Where(m => m.IsUp).OrderBy(m => m.Id, StringComparer.Ordinal);

    /// <summary>From the coordinator's <c>/v1/cluster</c> and <c>/v1/cluster/ring</c>.</summary>
    public static async Task<ClusterTopology> FetchAsync(HttpClient http, Uri coordinator, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var cluster = await GetJsonAsync(http, new Uri(coordinator, "v1/cluster"), cancellationToken);
        var members = new Dictionary<string, Member>(StringComparer.Ordinal);
        foreach (var node in cluster.GetProperty("nodes").EnumerateArray())
        {
            var id = node.GetProperty("id").GetString()!;
            members[id] = new Member(id, new Uri(node.GetProperty("clientUrl").GetString()!), node.GetProperty("state").GetString()!);
        }
        if (!cluster.TryGetProperty("source", out var source) || source.GetString() != "coordinator")
        {
            throw new BackupException($"{coordinator} answered with a node's own map: give the coordinator's URL (./ringkv up prints it), which knows the ring and every node's state.");
        }
        var ring = await GetJsonAsync(http, new Uri(coordinator, "v1/cluster/ring"), cancellationToken);
        var vnodes = ring.GetProperty("tokens").EnumerateArray()
            .Select(t => new VirtualNode(ulong.Parse(t[0].GetString()!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture), t[1].GetString()!))
            .ToList();
        if (vnodes.Count == 0)
        {
            throw new BackupException("The cluster's ring is empty: no node owns any range yet. Wait until a node is up (./ringkv status).");
        }
        return new ClusterTopology(ring.GetProperty("epoch").GetInt64(), ring.GetProperty("replicationFactor").GetInt32(), new ConsistentHashRing(vnodes), members);
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient http, Uri uri, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(uri, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            throw new BackupException($"GET {uri} answered 404: give the coordinator's URL (./ringkv up prints it), which serves the ring.");
        }
        if (!response.IsSuccessStatusCode)
        {
            throw new BackupException($"GET {uri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }
}

/// <summary>A backup or restore cannot go on; the message says why and what to do.</summary>
public sealed class BackupException(string message, Exception? inner = null) : Exception(message, inner);
