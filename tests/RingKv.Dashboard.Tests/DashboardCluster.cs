using RingKv.Cluster.Tests.Harness;

namespace RingKv.Dashboard.Tests;

/// <summary>
/// A cluster and a browser started together for the tests of a class, both stopped at the end,
/// also when either failed to start.
/// </summary>
public abstract class BrowserAndCluster : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public Browser Browser { get; private set; } = null!;

    protected abstract Task<TestCluster> StartClusterAsync();

    public virtual async Task InitializeAsync()
    {
        var cluster = StartClusterAsync();
        var browser = Browser.LaunchAsync();
        try
        {
            Cluster = await cluster;
            Browser = await browser;
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public virtual async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
    }
}

/// <summary>
/// One 3-node cluster (RF 3) and one browser for the tests of a class. Three nodes, so a killed
/// node stays dead (it is not evicted while that would leave fewer live nodes than RF) until the
/// operator adds one from the page; short failure-detector thresholds, as in the failure tests.
/// </summary>
public sealed class DashboardCluster : BrowserAndCluster
{
    public static readonly string[] FastDetection = ["--suspect-after", "2", "--eviction-grace", "5", "--engine", "memory"];

    protected override Task<TestCluster> StartClusterAsync() => TestCluster.StartAsync(3, 3, "memory", FastDetection);
}
