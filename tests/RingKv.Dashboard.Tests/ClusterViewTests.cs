using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using RingKv.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RingKv.Dashboard.Tests;

/// <summary>The dashboard in a browser against a running cluster: what it shows, and that it follows the cluster live.</summary>
public sealed class ClusterViewTests(DashboardCluster fixture, ITestOutputHelper output) : IClassFixture<DashboardCluster>
{
    private static readonly LocatorAssertionsToHaveAttributeOptions Soon = new() { Timeout = 30_000 };

    [Fact]
    [Trait("Category", "Browser")]
    public async Task FollowsAKilledNodeFromSuspectToDeadAndTheClusterBackToFullReplicationWithoutAReload()
    {
        var cluster = fixture.Cluster;
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.CoordinatorUrl, $"dash/{i}", "v" + i));
        }
        using var stopLoad = new CancellationTokenSource();
        var load = ClientLoadAsync(cluster, stopLoad.Token);
        var tab = await fixture.Browser.OpenAsync(cluster.CoordinatorUrl, output);
        await tab.RunAsync(nameof(FollowsAKilledNodeFromSuspectToDeadAndTheClusterBackToFullReplicationWithoutAReload), async () =>
        {
            var page = tab.Page;
            foreach (var node in cluster.Nodes)
            {
                await Expect(tab.NodeRow(node.Id)).ToHaveAttributeAsync("data-state", "up", Soon);
                await Expect(page.Locator($"#ring path.arc[data-node='{node.Id}']").First).ToBeAttachedAsync();
            }
            await Expect(page.Locator("#nodes tbody tr")).ToHaveCountAsync(cluster.Nodes.Count);
            await Expect(page.Locator("#under-replicated")).ToHaveTextAsync("0");
            await Expect(page.Locator("#traffic .chart[data-op='put'] .figures")).ToContainTextAsync("req/s", new() { Timeout = 15_000 });
            // Rates come from the difference between two scrapes of the nodes' counters.
            await Expect(page.Locator("#traffic .chart[data-op='put'] .figures")).ToContainTextAsync(new Regex(@"[1-9][0-9]*\.[0-9] req/s"), new() { Timeout = 15_000 });
            await Expect(page.Locator("#traffic .chart[data-op='get'] .figures")).ToContainTextAsync(new Regex(@"p99 [0-9.]+ ms"), new() { Timeout = 15_000 });
            await tab.CaptureAsync("dashboard-ring", "#ring-view");

            // Nothing reloads the page from here on: each change must arrive by polling.
            var victim = cluster.Nodes[^1];
            await cluster.KillAsync(victim);
            await Expect(tab.NodeRow(victim.Id)).ToHaveAttributeAsync("data-state", "suspect", Soon);
            await Expect(tab.NodeRow(victim.Id)).ToHaveAttributeAsync("data-state", "dead", Soon);
            await Expect(page.Locator("#under-replicated")).ToHaveClassAsync("bad");
            Assert.NotEqual("0", await page.Locator("#under-replicated").TextContentAsync());
            await Expect(page.Locator($"#ring path.arc.dead[data-node='{victim.Id}']").First).ToBeAttachedAsync();
            await tab.CaptureAsync("dashboard-dead-node", "#nodes-view");
            await tab.CaptureAsync("dashboard-health", "#health-view");

            // With RF live nodes again, the dead one is evicted and its copies rebuilt.
            await page.Locator("#add-node").ClickAsync();
            await Expect(page.Locator("#confirm")).ToBeVisibleAsync();
            await page.Locator("#confirm-ok").ClickAsync();
            await Expect(page.Locator("#action-result")).ToContainTextAsync("started", new() { Timeout = 60_000 });
            await Expect(tab.NodeRow(victim.Id)).ToHaveCountAsync(0, new() { Timeout = 60_000 });
            var rereplication = page.Locator("#transfers tbody tr").Filter(new() { HasText = "re-replication" });
            await Expect(rereplication.First).ToBeAttachedAsync(new() { Timeout = 30_000 });
            await Expect(rereplication.First).ToHaveAttributeAsync("data-state", "done", new() { Timeout = 60_000 });
            await Expect(rereplication.First.Locator(".progress-cell")).ToContainTextAsync("100 %");
            await Expect(page.Locator("#under-replicated")).ToHaveTextAsync("0", new() { Timeout = 30_000 });
            await Expect(page.Locator("#under-replicated")).ToHaveClassAsync("good");
            await Expect(page.Locator("#transitions")).ToContainTextAsync($"{victim.Id}: suspect → dead");
            await tab.CaptureAsync("dashboard-moving", "#moving-view");
            await tab.CaptureAsync("dashboard-traffic", "#traffic-view");
            await tab.CaptureAsync("dashboard");
        });
        await stopLoad.CancelAsync();
        await load;
    }

    /// <summary>A paced trickle of puts and gets through the coordinator (about 20 a second), so the traffic charts have something to show.</summary>
    private static async Task ClientLoadAsync(Cluster.Tests.Harness.TestCluster cluster, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            for (var i = 0; i < 6_000 && await timer.WaitForNextTickAsync(stop); i++)
            {
                try
                {
                    if (i % 2 == 0)
                    {
                        await cluster.PutAsync(cluster.CoordinatorUrl, $"load/{i % 200}", "v" + i);
                    }
                    else
                    {
                        await cluster.GetAsync(cluster.CoordinatorUrl, $"load/{(i - 1) % 200}");
                    }
                }
                catch (HttpRequestException)
                {
                    // A node killed under the load: the dashboard shows the errors; the load goes on.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [Fact]
    [Trait("Category", "Browser")]
    public async Task LocatingAKeyHighlightsExactlyItsReplicasAndShowsMarkupAsText()
    {
        var cluster = fixture.Cluster;
        const string Hostile = "<script>alert(1)</script>";
        foreach (var key in new[] { "users/42", Hostile })
        {
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.CoordinatorUrl, key, "value of " + key));
        }
        var tab = await fixture.Browser.OpenAsync(cluster.CoordinatorUrl, output);
        await tab.RunAsync(nameof(LocatingAKeyHighlightsExactlyItsReplicasAndShowsMarkupAsText), async () =>
        {
            var page = tab.Page;
            await Expect(page.Locator("#nodes tbody tr").First).ToBeAttachedAsync(new() { Timeout = 30_000 });
            foreach (var key in new[] { "users/42", Hostile })
            {
                var expected = await cluster.LocateAsync(key);
                Assert.Equal(3, expected.Distinct().Count());
                await page.Locator("#locate-key").FillAsync(key);
                await page.Locator("#locate-form button").ClickAsync();
                await Expect(page.Locator("#located-key")).ToHaveTextAsync(key);
                await Expect(page.Locator("#ring .replica-marker")).ToHaveCountAsync(3);
                var marked = await page.Locator("#ring .replica-marker").EvaluateAllAsync<string[]>("all => all.map(m => m.getAttribute('data-node'))");
                Assert.Equal(expected, marked);
                var highlighted = await page.Locator("#nodes tbody tr.replica").EvaluateAllAsync<string[]>("all => all.map(r => r.getAttribute('data-node'))");
                Assert.Equal(expected.Order(StringComparer.Ordinal), highlighted.Order(StringComparer.Ordinal));
                // Without authentication the caller is admin: each replica's version is shown, and they agree.
                await Expect(page.Locator("#locate-result")).ToContainTextAsync("All copies agree.");
                await Expect(page.Locator("#locate-result tbody tr")).ToHaveCountAsync(3);
            }
            Assert.Equal(0, await page.Locator("#locate-result script, #ring script").CountAsync());
            await tab.CaptureAsync("dashboard-locate", "#ring-view");
        });
    }

    [Fact]
    public async Task ServesTheEmbeddedPageWithAStrictPolicyAndTheNewEndpointsAnswerJson()
    {
        var cluster = fixture.Cluster;
        using var redirect = await cluster.Http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.CoordinatorUrl, "/ui")));
        Assert.Equal("/ui/", redirect.RequestMessage!.RequestUri!.AbsolutePath);
        foreach (var (file, type) in new[] { ("", "text/html"), ("dashboard.js", "text/javascript"), ("dashboard.css", "text/css") })
        {
            using var response = await cluster.Http.GetAsync(new Uri(cluster.CoordinatorUrl, "/ui/" + file));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
                response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.True(response.Headers.CacheControl?.NoCache, file + " must be revalidated");
            using var again = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.CoordinatorUrl, "/ui/" + file));
            again.Headers.IfNoneMatch.Add(response.Headers.ETag!);
            using var unchanged = await cluster.Http.SendAsync(again);
            Assert.Equal(HttpStatusCode.NotModified, unchanged.StatusCode);
        }
        var html = await cluster.Http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/ui/"));
        Assert.DoesNotContain("style=", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        using (var missing = await cluster.Http.GetAsync(new Uri(cluster.CoordinatorUrl, "/ui/nothing.js")))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        var whoami = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/auth/whoami"));
        Assert.Equal("admin", whoami.GetProperty("role").GetString());
        Assert.Equal("off", whoami.GetProperty("authentication").GetString());

        var ring = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/ring"));
        var tokens = ring.GetProperty("tokens").EnumerateArray().Select(t => (Token: t[0].GetString()!, Node: t[1].GetString()!)).ToList();
        Assert.All(tokens, t => Assert.Matches("^[0-9a-f]{16}$", t.Token));
        Assert.Equal(tokens.Select(t => t.Token).Order(StringComparer.Ordinal), tokens.Select(t => t.Token));
        var status = await cluster.ClusterAsync(cluster.CoordinatorUrl);
        foreach (var node in status.GetProperty("nodes").EnumerateArray())
        {
            Assert.Equal(node.GetProperty("tokens").GetInt32(), tokens.Count(t => t.Node == node.GetProperty("id").GetString()));
        }
        Assert.Equal(status.GetProperty("epoch").GetInt64(), ring.GetProperty("epoch").GetInt64());

        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.CoordinatorUrl, "traffic/probe", "x"));
        var traffic = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/traffic"));
        var reachable = traffic.GetProperty("nodes").EnumerateArray().Where(n => n.GetProperty("reachable").GetBoolean()).ToList();
        Assert.NotEmpty(reachable);
        var puts = reachable.SelectMany(n => n.GetProperty("requests").EnumerateArray())
            .Where(r => r.GetProperty("op").GetString() == "put" && r.GetProperty("status").GetString() == "2xx").Sum(r => r.GetProperty("count").GetInt64());
        Assert.True(puts >= 1, "the put is counted by the node that coordinated it: " + traffic);
        var histogram = reachable.SelectMany(n => n.GetProperty("latency").EnumerateArray()).First(l => l.GetProperty("op").GetString() == "put");
        Assert.Equal("+Inf", histogram.GetProperty("buckets").EnumerateArray().Last()[0].GetString());

        // Acknowledged by a quorum: the third copy may land a moment later.
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            var located = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.CoordinatorUrl, "/v1/cluster/locate/traffic/probe?versions=true"));
            seen = located.ToString();
            var versions = located.GetProperty("replicas").EnumerateArray().Where(r => r.GetProperty("state").GetString() == "up").ToList();
            return versions.Count > 0 && versions.All(r => r.GetProperty("present").GetBoolean() &&
                System.Text.RegularExpressions.Regex.IsMatch(r.GetProperty("version").GetString()!, "^[0-9a-f]{16}-[0-9a-f]{8}$"));
        }, TimeSpan.FromSeconds(10), () => "the live replicas do not all show a version: " + seen);
        using var bad = await cluster.Http.GetAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/locate/k?versions=yes"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
