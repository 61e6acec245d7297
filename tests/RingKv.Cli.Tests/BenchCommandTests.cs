using System.Text.Json;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>
/// The benchmark's behaviour, not its speed: it runs, reports in the promised shapes, and counts
/// no errors against a healthy node. Speed figures belong in docs/PERFORMANCE.md.
/// </summary>
public sealed class BenchCommandTests(MemoryNodeFixture node) : IClassFixture<MemoryNodeFixture>
{
    [Theory]
    [InlineData("put")]
    [InlineData("get")]
    [InlineData("mixed")]
    public async Task BenchWithJsonReportsThroughputAndPercentilesWithoutErrors(string op)
    {
        var result = await node.RunAsync("bench", "--op", op, "--duration", "1", "--concurrency", "4", "--keys", "200", "--value-size", "64", "--json");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Description);
        using var report = JsonDocument.Parse(result.StandardOutput);
        var root = report.RootElement;
        Assert.Equal(op, root.GetProperty("op").GetString());
        Assert.True(root.GetProperty("requests").GetInt64() > 0, result.Description);
        Assert.True(root.GetProperty("throughput").GetDouble() > 0, result.Description);
        Assert.True(root.GetProperty("errors").GetInt64() == 0, result.Description);
        var latency = root.GetProperty("latencyMs");
        var p50 = latency.GetProperty("p50").GetDouble();
        var p999 = latency.GetProperty("p99.9").GetDouble();
        Assert.True(p50 > 0 && p50 <= latency.GetProperty("p90").GetDouble() && latency.GetProperty("p99").GetDouble() <= p999, result.Description);
    }

    [Fact]
    public async Task FillWritesEachKeyOfTheKeySpaceOnceThenStops()
    {
        var result = await node.RunAsync("bench", "--op", "fill", "--duration", "60", "--concurrency", "4", "--keys", "300", "--value-size", "10", "--json");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Description);
        using var report = JsonDocument.Parse(result.StandardOutput);
        Assert.Equal("fill", report.RootElement.GetProperty("op").GetString());
        Assert.Equal(300, report.RootElement.GetProperty("requests").GetInt64());
        Assert.True(report.RootElement.GetProperty("durationSeconds").GetDouble() < 60, result.Description);
        foreach (var index in new[] { 0, 150, 299 })
        {
            Assert.NotNull(await node.Client.GetAsync($"bench/{index:D8}"));
        }
    }

    [Fact]
    public async Task BenchPrintsAReadableSummaryAndAProgressLine()
    {
        var result = await node.RunAsync("bench", "--op", "put", "--duration", "1.5", "--concurrency", "2", "--keys", "50");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Description);
        Assert.Contains("ops/s", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("p99.9", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("errors 0", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ops/s", result.StandardError, StringComparison.Ordinal);
    }
}
