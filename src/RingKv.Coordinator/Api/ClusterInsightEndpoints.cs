using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RingKv.Coordinator.Hosting;
using RingKv.Coordinator.Membership;
using RingKv.Coordinator.Observability;
using RingKv.Core.Cluster;
using RingKv.Node.Api;
using RingKv.Node.Security;

namespace RingKv.Coordinator.Api;

/// <summary>
/// Read endpoints for operators and the dashboard: the ring's tokens, client traffic gathered
/// from the nodes' /metrics, and who the caller is. Public API (docs/API.md), read role.
/// </summary>
public static class ClusterInsightEndpoints
{
    /// <summary>Enough to point an operator at the trouble; the count in /v1/cluster is the full figure.</summary>
    public const int MaxListedRanges = 64;

    public static IEndpointRouteBuilder MapClusterInsights(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/cluster/ring", async (HttpContext context, MembershipService membership) =>
        {
            if (await QueryRules.AllowOnlyAsync(context))
            {
                var map = membership.Map;
                await ClusterStatusJson.WriteAsync(context, json => WriteRing(json, map));
            }
        });

        routes.MapGet("/v1/cluster/traffic", async (HttpContext context, MembershipService membership, NodeReads reads, TimeProvider time) =>
        {
            if (!await QueryRules.AllowOnlyAsync(context))
            {
                return;
            }
            var traffic = await reads.TrafficAsync(membership.Map, context.RequestAborted);
            await ClusterStatusJson.WriteAsync(context, json => WriteTraffic(json, time.GetUtcNow(), traffic));
        });

        routes.MapGet("/v1/auth/whoami", async (HttpContext context, CoordinatorOptions options) =>
        {
            if (!await QueryRules.AllowOnlyAsync(context))
            {
                return;
            }
            // With an auth file the authentication middleware has already refused a missing or unknown token.
            var identity = context.Items.TryGetValue(typeof(TokenIdentity), out var item) ? item as TokenIdentity : null;
            await ClusterStatusJson.WriteAsync(context, json =>
            {
                json.WriteStartObject();
                json.WriteString("name", identity?.Name);
                json.WriteString("role", (identity?.Role ?? Role.Admin).ToString().ToLowerInvariant());
                json.WriteString("authentication", options.AuthFile is null ? "off" : "on");
                json.WriteEndObject();
            });
        });
        return routes;
    }

    public static void WriteRing(Utf8JsonWriter json, ClusterMap map)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(map);
        var ring = map.Ring;
        json.WriteStartObject();
        json.WriteNumber("epoch", map.Epoch);
        json.WriteNumber("replicationFactor", map.ReplicationFactor);
        json.WriteStartArray("nodes");
        foreach (var member in map.Members.OrderBy(m => m.Number))
        {
            json.WriteStartObject();
            json.WriteString("id", member.Id);
            json.WriteString("state", member.State.ToString().ToLowerInvariant());
            json.WriteNumber("ownership", Math.Round(ring.Ownership(member.Id), 6));
            json.WriteEndObject();
        }
        json.WriteEndArray();
        // The ring that serves now: a range (previous token, token] belongs to the token's node.
        json.WriteStartArray("tokens");
        foreach (var vnode in ring.VirtualNodes)
        {
            WriteToken(json, vnode.Token, vnode.NodeId);
        }
        json.WriteEndArray();
        // Joining members' tokens: on the ring once their ranges have arrived (FutureRing places them).
        json.WriteStartArray("pending");
        foreach (var (token, id) in map.Members.Where(m => m.State == MemberState.Joining)
            .SelectMany(m => m.Tokens.Select(t => (t, m.Id))).OrderBy(p => p.t))
        {
            WriteToken(json, token, id);
        }
        json.WriteEndArray();
        var under = UnderReplicated(map);
        json.WriteNumber("underReplicatedRanges", under.Count);
        json.WriteStartArray("underReplicated");
        foreach (var (range, live) in under.Take(MaxListedRanges))
        {
            json.WriteStartObject();
            json.WriteString("start", Hex(range.Range.Start));
            json.WriteString("end", Hex(range.Range.End));
            json.WriteNumber("liveReplicas", live);
            json.WriteStartArray("replicas");
            foreach (var id in range.PreferenceList)
            {
                json.WriteStringValue(id);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Ranges whose preference list has fewer than RF members that are up, with how many are.</summary>
    public static List<(Core.Ring.ReplicatedRange Range, int Live)> UnderReplicated(ClusterMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var result = new List<(Core.Ring.ReplicatedRange, int)>();
        if (map.Ring.IsEmpty)
        {
            return result;
        }
        foreach (var range in map.Ring.Ranges(map.ReplicationFactor))
        {
            var live = range.PreferenceList.Distinct(StringComparer.Ordinal).Count(id => map.FindMember(id)?.State == MemberState.Up);
            if (live < map.ReplicationFactor)
            {
                result.Add((range, live));
            }
        }
        return result;
    }

    public static void WriteTraffic(Utf8JsonWriter json, DateTimeOffset at, IReadOnlyList<NodeTraffic> nodes)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(nodes);
        json.WriteStartObject();
        json.WriteString("at", at.ToString("O", CultureInfo.InvariantCulture));
        json.WriteStartArray("nodes");
        foreach (var node in nodes)
        {
            json.WriteStartObject();
            json.WriteString("id", node.Id);
            json.WriteString("state", node.State);
            json.WriteBoolean("reachable", node.Reachable);
            if (node.Error is { } error)
            {
                json.WriteString("error", error);
            }
            json.WriteStartArray("requests");
            foreach (var count in node.Requests)
            {
                json.WriteStartObject();
                json.WriteString("op", count.Operation);
                json.WriteString("status", count.StatusClass);
                json.WriteNumber("count", count.Count);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteStartArray("latency");
            foreach (var histogram in node.Latency)
            {
                json.WriteStartObject();
                json.WriteString("op", histogram.Operation);
                json.WriteNumber("count", histogram.Count);
                json.WriteNumber("sumSeconds", histogram.SumSeconds);
                json.WriteStartArray("buckets");
                foreach (var (bound, count) in histogram.Buckets)
                {
                    json.WriteStartArray();
                    json.WriteStringValue(bound);
                    json.WriteNumberValue(count);
                    json.WriteEndArray();
                }
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteToken(Utf8JsonWriter json, ulong token, string id)
    {
        json.WriteStartArray();
        json.WriteStringValue(Hex(token));
        json.WriteStringValue(id);
        json.WriteEndArray();
    }

    private static string Hex(ulong token) => token.ToString("x16", CultureInfo.InvariantCulture);
}
