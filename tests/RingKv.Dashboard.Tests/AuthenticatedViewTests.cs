using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Playwright;
using RingKv.Cluster.Tests.Harness;
using RingKv.Node.Security;
using RingKv.Testing;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace RingKv.Dashboard.Tests;

/// <summary>A cluster with client tokens (as <c>up --auth</c> runs it): an admin token and a read-only one.</summary>
public sealed class AuthenticatedCluster : BrowserAndCluster
{
    private readonly TempDirectory _directory = new("dashboard-auth");

    public string AdminToken { get; private set; } = null!;

    public string ReadToken { get; private set; } = null!;

    protected override Task<TestCluster> StartClusterAsync()
    {
        var (admin, adminRecord) = TokenStore.Create("dashboard-admin", Role.Admin);
        var (reader, readerRecord) = TokenStore.Create("dashboard-reader", Role.Read);
        AdminToken = admin;
        ReadToken = reader;
        var authFile = _directory.Combine("auth.json");
        TokenStore.Write(authFile, [adminRecord, readerRecord]);
        return TestCluster.StartSecuredAsync(3, authFile, admin);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _directory.Dispose();
    }
}

public sealed class AuthenticatedViewTests(AuthenticatedCluster fixture, ITestOutputHelper output) : IClassFixture<AuthenticatedCluster>
{
    [Fact]
    [Trait("Category", "Browser")]
    public async Task ShowsNothingBeforeAValidTokenAndNoActionsToAReadOnlyToken()
    {
        var cluster = fixture.Cluster;
        var tab = await fixture.Browser.OpenAsync(cluster.CoordinatorUrl, output);
        var dataAnswered = new List<string>();
        tab.Page.Response += (_, response) =>
        {
            if (response.Url.Contains("/v1/cluster", StringComparison.Ordinal) && response.Ok)
            {
                lock (dataAnswered)
                {
                    dataAnswered.Add(response.Url);
                }
            }
        };
        await tab.RunAsync(nameof(ShowsNothingBeforeAValidTokenAndNoActionsToAReadOnlyToken), async () =>
        {
            var page = tab.Page;
            await Expect(page.Locator("#login")).ToBeVisibleAsync();
            await Expect(page.Locator("#main")).ToBeHiddenAsync();
            await page.Locator("#token").FillAsync("not-a-token");
            await page.Locator("#login-form button").ClickAsync();
            await Expect(page.Locator("#login-error")).ToContainTextAsync("refused");
            await Expect(page.Locator("#main")).ToBeHiddenAsync();
            Assert.Equal(0, await page.Locator("#nodes tbody tr").CountAsync());
            lock (dataAnswered)
            {
                Assert.Empty(dataAnswered);
            }
            await tab.CaptureAsync("dashboard-login");

            await page.Locator("#token").FillAsync(fixture.ReadToken);
            await page.Locator("#login-form button").ClickAsync();
            await Expect(page.Locator("#nodes tbody tr")).ToHaveCountAsync(3, new() { Timeout = 30_000 });
            await Expect(page.Locator("#whoami")).ToContainTextAsync("dashboard-reader (read)");
            Assert.DoesNotContain(fixture.ReadToken, page.Url, StringComparison.Ordinal);
            Assert.Equal(fixture.ReadToken, await page.EvaluateAsync<string>("() => sessionStorage.getItem('ringkv.token')"));
            await Expect(page.Locator("#add-node")).ToBeHiddenAsync();
            Assert.Equal(0, await page.Locator("button.remove-node, button.cancel-transfer").CountAsync());
            await page.Locator("#locate-key").FillAsync("some/key");
            await page.Locator("#locate-form button").ClickAsync();
            await Expect(page.Locator("#locate-result")).ToContainTextAsync("needs admin");
            await Expect(page.Locator("#ring .replica-marker")).ToHaveCountAsync(3);
        });

        // An admin token in another tab (its own sessionStorage) sees the actions.
        var adminTab = await fixture.Browser.OpenAsync(cluster.CoordinatorUrl, output);
        await adminTab.RunAsync(nameof(ShowsNothingBeforeAValidTokenAndNoActionsToAReadOnlyToken) + "-admin", async () =>
        {
            var page = adminTab.Page;
            await page.Locator("#token").FillAsync(fixture.AdminToken);
            await page.Locator("#login-form button").ClickAsync();
            await Expect(page.Locator("button.remove-node")).ToHaveCountAsync(3, new() { Timeout = 30_000 });
            await Expect(page.Locator("#add-node")).ToBeVisibleAsync();

            // Three nodes for RF 3: the server refuses a removal, and the page shows its reason.
            await page.Locator("button.remove-node[data-node='n1']").ClickAsync();
            await Expect(page.Locator("#confirm")).ToBeVisibleAsync();
            await page.Locator("#confirm-cancel").ClickAsync();
            await Expect(page.Locator("#confirm")).ToBeHiddenAsync();
            await Expect(page.Locator("#action-result")).ToBeEmptyAsync();
            await page.Locator("button.remove-node[data-node='n1']").ClickAsync();
            await page.Locator("#confirm-ok").ClickAsync();
            await Expect(page.Locator("#action-result")).ToContainTextAsync("Removing n1 would leave 2 live nodes for a replication factor of 3");
            await Expect(page.Locator("#nodes tbody tr[data-node='n1']")).ToHaveAttributeAsync("data-state", "up");
        });
    }

    [Fact]
    [Trait("Category", "Browser")]
    public async Task SaysTheCoordinatorIsUnreachableWhileItIsDownAndResumesWhenItIsBack()
    {
        var cluster = fixture.Cluster;
        var tab = await fixture.Browser.OpenAsync(cluster.CoordinatorUrl, output);
        await tab.RunAsync(nameof(SaysTheCoordinatorIsUnreachableWhileItIsDownAndResumesWhenItIsBack), async () =>
        {
            var page = tab.Page;
            await page.Locator("#token").FillAsync(fixture.AdminToken);
            await page.Locator("#login-form button").ClickAsync();
            await Expect(page.Locator("#nodes tbody tr")).ToHaveCountAsync(3, new() { Timeout = 30_000 });

            await cluster.KillCoordinatorAsync();
            await Expect(page.Locator("#banner")).ToBeVisibleAsync(new() { Timeout = 15_000 });
            await Expect(page.Locator("#banner")).ToContainTextAsync("Coordinator unreachable since");
            await Expect(page.Locator("#main")).ToHaveClassAsync("stale");
            // The last data stays on screen, marked stale, rather than an empty or broken page.
            await Expect(page.Locator("#nodes tbody tr")).ToHaveCountAsync(3);
            await tab.CaptureAsync("dashboard-unreachable");

            await cluster.RestartCoordinatorAsync();
            await Expect(page.Locator("#banner")).ToBeHiddenAsync(new() { Timeout = 30_000 });
            await Expect(page.Locator("#main")).Not.ToHaveClassAsync("stale");
            await Expect(page.Locator("#nodes tbody tr")).ToHaveCountAsync(3);
            await Expect(page.Locator("#whoami")).ToContainTextAsync("dashboard-admin (admin)");
        });
    }

    [Fact]
    public async Task WhoAmINamesTheTokenAndReplicaVersionsNeedTheAdminRole()
    {
        var cluster = fixture.Cluster;
        using var anonymous = new HttpClient();
        using (var response = await anonymous.GetAsync(new Uri(cluster.CoordinatorUrl, "/v1/auth/whoami")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        using (var response = await anonymous.GetAsync(new Uri(cluster.CoordinatorUrl, "/ui/")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using var reader = new HttpClient();
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fixture.ReadToken);
        using var who = JsonDocument.Parse(await reader.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/v1/auth/whoami")));
        Assert.Equal("dashboard-reader", who.RootElement.GetProperty("name").GetString());
        Assert.Equal("read", who.RootElement.GetProperty("role").GetString());
        Assert.Equal("on", who.RootElement.GetProperty("authentication").GetString());
        using (var response = await reader.GetAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/ring")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var response = await reader.GetAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/locate/k?versions=true")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.CoordinatorUrl, "k", "v"));
        // The harness's client carries the admin token; the coordinator asks each replica with it.
        // The write was acknowledged by a quorum: the third copy may land a moment later.
        var seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            seen = await cluster.Http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/v1/cluster/locate/k?versions=true"));
            using var located = JsonDocument.Parse(seen);
            var replicas = located.RootElement.GetProperty("replicas").EnumerateArray().ToList();
            return replicas.Count == 3 && replicas.All(r => r.GetProperty("present").GetBoolean()) &&
                replicas.Select(r => r.GetProperty("version").GetString()).Distinct().Count() == 1;
        }, TimeSpan.FromSeconds(10), () => "the three replicas do not show one version: " + seen);
    }
}
