using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;

namespace RingKv.Cluster.Tests;

/// <summary>The ring server: map persistence, heartbeats, the gateway, and nodes that keep serving without it.</summary>
public sealed class CoordinatorTests
{
    [Fact]
    public async Task NodesKeepServingWhileTheCoordinatorIsDownAndItComesBackWithTheSameMapAndEpoch()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        var before = await cluster.ClusterAsync(cluster.CoordinatorUrl);
        var epoch = before.GetProperty("epoch").GetInt64();
        var members = before.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()).Order().ToList();

        await cluster.KillCoordinatorAsync();
        for (var i = 0; i < 50; i++)
        {
            var node = cluster.Nodes[i % 3];
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(node.Url, $"headless/{i}", "v" + i));
            Assert.Equal("v" + i, (await cluster.GetAsync(cluster.Nodes[(i + 1) % 3].Url, $"headless/{i}")).Body);
        }
        // A node answers for the cluster from its own map while the coordinator is away.
        var fromNode = await cluster.ClusterAsync(cluster.Nodes[0].Url);
        Assert.Equal("node", fromNode.GetProperty("source").GetString());
        Assert.Equal(epoch, fromNode.GetProperty("epoch").GetInt64());

        await cluster.RestartCoordinatorAsync();
        var after = await cluster.ClusterAsync(cluster.CoordinatorUrl);
        Assert.Equal(epoch, after.GetProperty("epoch").GetInt64());
        Assert.Equal(members, after.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()).Order().ToList());
        // The nodes report to the restarted coordinator again.
        await Eventually.WaitUntilAsync(async () =>
        {
            var status = await cluster.ClusterAsync(cluster.CoordinatorUrl);
            return status.GetProperty("nodes").EnumerateArray().All(n => n.GetProperty("lastHeartbeatAgeMs").ValueKind == JsonValueKind.Number
                && n.GetProperty("lastHeartbeatAgeMs").GetInt64() < 3000);
        }, TimeSpan.FromSeconds(15), () => "nodes did not heartbeat to the restarted coordinator");
    }

    [Fact]
    public async Task ClusterApiShowsMembersOwnershipHeartbeatsAndPlacement()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 4);
        await cluster.PutAsync(cluster.Nodes[0].Url, "shown", "v");
        await Eventually.WaitUntilAsync(async () =>
        {
            var status = await cluster.ClusterAsync(cluster.CoordinatorUrl);
            return status.GetProperty("nodes").EnumerateArray().All(n => n.GetProperty("keys").ValueKind == JsonValueKind.Number);
        }, TimeSpan.FromSeconds(10), () => "heartbeats with figures did not arrive");
        var cluster0 = await cluster.ClusterAsync(cluster.CoordinatorUrl);
        Assert.Equal(3, cluster0.GetProperty("replicationFactor").GetInt32());
        Assert.Equal(0, cluster0.GetProperty("underReplicatedRanges").GetInt32());
        var nodes = cluster0.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(4, nodes.Count);
        var ownership = nodes.Select(n => n.GetProperty("ownership").GetDouble()).ToList();
        Assert.InRange(ownership.Sum(), 0.999, 1.001);
        Assert.True(ownership.Max() / ownership.Min() <= 1.25, $"ownership {string.Join(", ", ownership)}");
        foreach (var node in nodes)
        {
            Assert.Equal("up", node.GetProperty("state").GetString());
            Assert.StartsWith("http://127.0.0.1:", node.GetProperty("clientUrl").GetString(), StringComparison.Ordinal);
            Assert.StartsWith("http://127.0.0.1:", node.GetProperty("internodeUrl").GetString(), StringComparison.Ordinal);
        }

        var located = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.Nodes[3].Url, "/v1/cluster/locate/shown"));
        Assert.Equal("shown", located.GetProperty("key").GetString());
        Assert.Equal(3, located.GetProperty("replicas").GetArrayLength());

        var metrics = await cluster.Http.GetStringAsync(new Uri(cluster.Nodes[0].Url, "/metrics"));
        Assert.Contains("ringkv_requests", metrics, StringComparison.Ordinal);
        Assert.Contains("ringkv_request_duration", metrics, StringComparison.Ordinal);
        Assert.Contains("ringkv_replica_responses", metrics, StringComparison.Ordinal);
        var coordinatorMetrics = await cluster.Http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/metrics"));
        Assert.Contains("ringkv_heartbeat_age", coordinatorMetrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCoordinatorIsAGatewayForTheV1Api()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.CoordinatorUrl, "via/gateway é", "through the front door"));
        Assert.Equal("through the front door", (await cluster.GetAsync(cluster.CoordinatorUrl, "via/gateway é")).Body);
        Assert.Equal("through the front door", (await cluster.GetAsync(cluster.Nodes[2].Url, "via/gateway é")).Body);
        using var bad = await cluster.Http.PutAsync(new Uri(cluster.CoordinatorUrl, "/v1/kv/%252e%252e"), new StringContent("x"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var listed = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/kv?prefix=via/"));
        Assert.Equal("via/gateway é", listed.GetProperty("keys")[0].GetString());
    }
}
