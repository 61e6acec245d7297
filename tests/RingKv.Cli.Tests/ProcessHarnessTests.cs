using RingKv.Client;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>The fault injection later cluster tests rely on: a paused node answers nothing until resumed; a killed one is gone.</summary>
public sealed class ProcessHarnessTests
{
    [Fact]
    public async Task PausedNodeAnswersNothingUntilResumed()
    {
        await using var node = RingKvProcess.Start("node", "--port", "0", "--engine", "memory");
        var url = await node.WaitForUrlAsync(Deadlines.NodeStart);
        using var client = new RingKvClient(url);
        await client.PutAsync("harness/k", "v");
        using var impatientHttp = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(1) };
        using var impatient = new RingKvClient(impatientHttp);

        node.Pause();
        // The kernel still accepts the connection, but a stopped process never answers.
        await Assert.ThrowsAnyAsync<TaskCanceledException>(() => impatient.GetAsync("harness/k"));

        node.Resume();
        await Eventually.WaitUntilAsync(
            async () => (await client.GetAsync("harness/k")) is not null,
            TimeSpan.FromSeconds(30),
            () => $"Expected the resumed node at {url} to serve harness/k again. {node.Describe()}");
    }

    [Fact]
    public async Task KilledNodeIsGoneAndItsPortRefusesConnections()
    {
        await using var node = RingKvProcess.Start("node", "--port", "0", "--engine", "memory");
        var url = await node.WaitForUrlAsync(Deadlines.NodeStart);

        node.Kill();
        await node.WaitForExitAsync(Deadlines.NodeStop);

        Assert.True(node.HasExited, node.Describe());
        using var client = new RingKvClient(url);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("harness/k"));
    }
}
