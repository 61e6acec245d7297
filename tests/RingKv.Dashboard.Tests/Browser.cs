using Microsoft.Playwright;
using RingKv.Testing;
using Xunit.Abstractions;

namespace RingKv.Dashboard.Tests;

/// <summary>
/// Debian's chromium, headless, driven by Playwright's own driver (shipped in its NuGet package):
/// no browser is downloaded. A fresh profile per instance, deleted on dispose.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private readonly IPlaywright _playwright;
    private readonly TempDirectory _profile;

    private Browser(IPlaywright playwright, IBrowserContext context, TempDirectory profile)
    {
        _playwright = playwright;
        Context = context;
        _profile = profile;
    }

    public IBrowserContext Context { get; }

    public static async Task<Browser> LaunchAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: install Debian's chromium (apt-get install -y chromium). .ci/run does it when missing.");
        }
        var playwright = await Playwright.CreateAsync();
        var profile = new TempDirectory("chromium");
        try
        {
            var context = await playwright.Chromium.LaunchPersistentContextAsync(profile.Path, new BrowserTypeLaunchPersistentContextOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = Arguments,
                ViewportSize = new ViewportSize { Width = 1400, Height = 1000 },
            });
            return new Browser(playwright, context, profile);
        }
        catch
        {
            playwright.Dispose();
            profile.Dispose();
            throw;
        }
    }

    /// <summary>A new tab (its own sessionStorage) that records what a test must never see: dialogs, script errors, CSP violations.</summary>
    public async Task<DashboardPage> OpenAsync(Uri coordinator, ITestOutputHelper output)
    {
        var page = await Context.NewPageAsync();
        var watched = new DashboardPage(page, coordinator, output);
        await page.GotoAsync(new Uri(coordinator, "/ui/").ToString());
        return watched;
    }

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        _playwright.Dispose();
        _profile.Dispose();
    }
}

/// <summary>One tab on the dashboard, and what happened in it that should not have.</summary>
public sealed class DashboardPage
{
    private readonly List<string> _problems = [];
    private readonly Lock _gate = new();
    private readonly ITestOutputHelper _output;

    public DashboardPage(IPage page, Uri coordinator, ITestOutputHelper output)
    {
        Page = page;
        Coordinator = coordinator;
        _output = output;
        page.Dialog += (_, dialog) =>
        {
            Record("a dialog fired: " + dialog.Message);
            _ = dialog.DismissAsync();
        };
        page.PageError += (_, error) => Record("script error: " + error);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                // A refused fetch while a node or the coordinator is down is expected; a CSP violation never is.
                if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
                {
                    Record("CSP violation: " + message.Text);
                }
            }
        };
    }

    public IPage Page { get; }

    public Uri Coordinator { get; }

    public IReadOnlyList<string> Problems
    {
        get
        {
            lock (_gate)
            {
                return [.. _problems];
            }
        }
    }

    public ILocator NodeRow(string id) => Page.Locator($"#nodes tbody tr[data-node='{id}']");

    private void Record(string problem)
    {
        lock (_gate)
        {
            _problems.Add(problem);
        }
    }

    /// <summary>Runs a test's steps; on failure saves a screenshot to the test output directory and says where.</summary>
    public async Task RunAsync(string name, Func<Task> steps)
    {
        ArgumentNullException.ThrowIfNull(steps);
        try
        {
            await steps();
            Assert.Empty(Problems);
        }
        catch (Exception failure)
        {
            var directory = Path.Combine(AppContext.BaseDirectory, "screenshots");
            Directory.CreateDirectory(directory);
            var path = Path.Combine(directory, $"{name}-{DateTime.UtcNow:HHmmss}.png");
            try
            {
                await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
                _output.WriteLine("Screenshot of the failing page: " + path);
            }
            catch (PlaywrightException ex)
            {
                _output.WriteLine("No screenshot: " + ex.Message);
            }
            throw new Xunit.Sdk.XunitException($"{failure.Message}\nScreenshot: {path}\nProblems seen in the page: [{string.Join("; ", Problems)}]\n{failure}");
        }
    }

    /// <summary>
    /// For the documentation: with RINGKV_DASHBOARD_SCREENSHOTS set to a folder, saves the element
    /// (or the whole page) there under <paramref name="name"/>.png. Otherwise does nothing.
    /// </summary>
    public async Task CaptureAsync(string name, string? selector = null)
    {
        if (Environment.GetEnvironmentVariable("RINGKV_DASHBOARD_SCREENSHOTS") is not { Length: > 0 } folder)
        {
            return;
        }
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".png");
        if (selector is null)
        {
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        }
        else
        {
            await Page.Locator(selector).ScreenshotAsync(new LocatorScreenshotOptions { Path = path });
        }
    }
}
