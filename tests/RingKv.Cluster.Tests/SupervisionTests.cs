using System.Globalization;
using System.Net;
using System.Text.Json;
using RingKv.Testing;

namespace RingKv.Cluster.Tests;

/// <summary>
/// The coordinator restarts the nodes it started (`up`): a SIGKILLed node is back as the same
/// member before the eviction grace ends, so nothing is transferred; one that keeps dying is left down.
/// </summary>
public sealed class SupervisionTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task AKilledNodeIsStartedAgainAsTheSameMemberWithNoTransferAndOneThatKeepsDyingIsLeftDown()
    {
        using var home = new TempDirectory("supervision");
        await using var up = RingKvProcess.Start("up", "--nodes", "3", "--port", "0", "--resp-port", "0", "--data-dir", home.Combine("data"), "--engine", "rocksdb");
        var url = await up.WaitForUrlAsync(Deadline);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var keys = Enumerable.Range(0, 100).Select(i => $"supervised/{i}").ToList();
        foreach (var key in keys)
        {
            using var put = await http.PutAsync(new Uri(url, "/v1/kv/" + key), new StringContent("v-" + key));
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        var transfersBefore = await TransferCountAsync(http, url);
        var victim = (await NodesAsync(http, url)).Single(n => n.Id == "n2");
        Signals.Send(victim.Pid, Signals.SigKill);
        Node restarted = victim;
        await Eventually.WaitUntilAsync(async () =>
        {
            restarted = (await NodesAsync(http, url)).Single(n => n.Id == "n2");
            return restarted.Pid != victim.Pid && restarted.State == "up" && restarted.Restarts == 1;
        }, TimeSpan.FromSeconds(20), () => $"n2 not back: {restarted}. {up.Describe()}");
        Assert.Equal("on", restarted.Supervision);
        // Back as the same member: no eviction, so no transfer beyond the joins'.
        Assert.Equal(transfersBefore, await TransferCountAsync(http, url));
        foreach (var key in keys)
        {
            Assert.Equal("v-" + key, await http.GetStringAsync(new Uri(url, "/v1/kv/" + key)));
        }
        var status = await RingKvProcess.RunAsync(["status", "--url", url.ToString()], Deadline);
        Assert.Contains("(1 restart)", status.StandardOutput, StringComparison.Ordinal);

        // Four more deaths within the minute: the fifth exit leaves it down.
        var crashing = (await NodesAsync(http, url)).Single(n => n.Id == "n3");
        for (var kill = 1; kill <= 5; kill++)
        {
            var pid = crashing.Pid;
            Signals.Send(pid, Signals.SigKill);
            if (kill == 5)
            {
                break;
            }
            await Eventually.WaitUntilAsync(async () =>
            {
                crashing = (await NodesAsync(http, url)).Single(n => n.Id == "n3");
                return crashing.Pid != pid && crashing.Restarts == kill;
            }, TimeSpan.FromSeconds(30), () => $"n3 not restarted after kill {kill}: {crashing}. {up.Describe()}");
        }
        // Left down: shown as such until the failure detector evicts it like any dead node.
        await Eventually.WaitUntilAsync(async () => (await NodesAsync(http, url)).Single(n => n.Id == "n3").Supervision == "gave-up",
            TimeSpan.FromSeconds(30), () => $"n3 was not left down. {up.Describe()}");
        var left = await RingKvProcess.RunAsync(["status", "--url", url.ToString()], Deadline);
        Assert.Contains("(left down after 4 restarts)", left.StandardOutput, StringComparison.Ordinal);
    }

    private static async Task<int> TransferCountAsync(HttpClient http, Uri url)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri(url, "/v1/cluster/transfers")));
        return doc.RootElement.GetProperty("transfers").GetArrayLength();
    }

    private sealed record Node(string Id, string State, int Pid, int Restarts, string? Supervision);

    private static async Task<List<Node>> NodesAsync(HttpClient http, Uri url)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync(new Uri(url, "/v1/cluster")));
        return doc.RootElement.GetProperty("nodes").EnumerateArray().Select(n => new Node(
            n.GetProperty("id").GetString()!,
            n.GetProperty("state").GetString()!,
            n.TryGetProperty("pid", out var pid) ? pid.GetInt32() : 0,
            n.TryGetProperty("restarts", out var restarts) ? restarts.GetInt32() : 0,
            n.TryGetProperty("supervision", out var supervision) ? supervision.GetString() : null)).ToList();
    }
}
