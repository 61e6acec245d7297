using System.Text.Json;
using RingKv.Core.Cluster;
using RingKv.Core.Hashing;

namespace RingKv.Node.Api;

/// <summary>What the coordinator knows of a member beyond the map: its heartbeats and figures.</summary>
/// <param name="Restarts">Times the coordinator started this node again after it exited unasked.</param>
/// <param name="Supervision">"on" for a node this coordinator launched and restarts, "gave-up" once it exited too often; null for a node it did not launch.</param>
/// <param name="Storage">What the node's store accepts (ok, full, recovering), from its heartbeat; null if it did not say.</param>
/// <param name="FreeDiskBytes">Free bytes on its data disk, from its heartbeat; null for the memory engine.</param>
public sealed record MemberHealth(long LastHeartbeatAgeMs, long Keys, long Bytes, long PendingHints, long Transfers, int? ProcessId, long? Tombstones = null, long? OldestTombstoneAgeMs = null, int Restarts = 0, string? Supervision = null,
    string? Storage = null, long? FreeDiskBytes = null);

/// <summary>Writes the documents of the cluster API: GET /v1/cluster and GET /v1/cluster/locate/{key}.</summary>
public static class ClusterStatusJson
{
    public static void WriteCluster(Utf8JsonWriter json, ClusterMap map, string source, IReadOnlyDictionary<string, MemberHealth>? health, Action<Utf8JsonWriter>? extra = null)
    {
        var ring = map.Ring;
        json.WriteStartObject();
        json.WriteNumber("epoch", map.Epoch);
        json.WriteNumber("replicationFactor", map.ReplicationFactor);
        json.WriteString("source", source);
        extra?.Invoke(json);
        json.WriteStartArray("nodes");
        foreach (var member in map.Members.OrderBy(m => m.Number))
        {
            json.WriteStartObject();
            json.WriteString("id", member.Id);
            json.WriteNumber("number", member.Number);
            json.WriteString("clientUrl", member.ClientUrl);
            json.WriteString("internodeUrl", member.InternodeUrl);
            json.WriteString("respUrl", member.RespUrl);
            json.WriteString("state", member.State.ToString().ToLowerInvariant());
            json.WriteNumber("tokens", member.Tokens.Count);
            json.WriteNumber("ownership", Math.Round(ring.Ownership(member.Id), 6));
            if (health is not null && health.TryGetValue(member.Id, out var h))
            {
                json.WriteNumber("lastHeartbeatAgeMs", h.LastHeartbeatAgeMs);
                json.WriteNumber("keys", h.Keys);
                json.WriteNumber("bytes", h.Bytes);
                json.WriteNumber("pendingHints", h.PendingHints);
                json.WriteNumber("transfers", h.Transfers);
                if (h.Tombstones is { } tombstones)
                {
                    json.WriteNumber("tombstones", tombstones);
                    json.WriteNumber("oldestTombstoneAgeMs", h.OldestTombstoneAgeMs ?? 0);
                }
                if (h.Storage is { } storage)
                {
                    json.WriteString("storage", storage);
                }
                if (h.FreeDiskBytes is { } free)
                {
                    json.WriteNumber("freeDiskBytes", free);
                }
                json.WriteNumber("restarts", h.Restarts);
                if (h.Supervision is { } supervision)
                {
                    json.WriteString("supervision", supervision);
                }
                if (h.ProcessId is { } pid)
                {
                    json.WriteNumber("pid", pid);
                }
            }
            else
            {
                json.WriteNull("lastHeartbeatAgeMs");
                json.WriteNull("keys");
                json.WriteNull("bytes");
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <param name="replicaExtra">Adds fields to each replica's object (the coordinator's <c>?versions=true</c>).</param>
    public static void WriteLocate(Utf8JsonWriter json, ClusterMap map, string key, Action<Utf8JsonWriter, string>? replicaExtra = null)
    {
        var token = KeyToken.Of(key);
        json.WriteStartObject();
        json.WriteString("key", key);
        json.WriteString("token", token.ToString("x16", System.Globalization.CultureInfo.InvariantCulture));
        json.WriteNumber("epoch", map.Epoch);
        json.WriteStartArray("replicas");
        foreach (var id in map.Ring.PreferenceList(token, map.ReplicationFactor))
        {
            var member = map.FindMember(id);
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("clientUrl", member?.ClientUrl);
            json.WriteString("state", member?.State.ToString().ToLowerInvariant());
            replicaExtra?.Invoke(json, id);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static async Task WriteAsync(Microsoft.AspNetCore.Http.HttpContext context, Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }
}
