using RingKv.Client;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>
/// The URLs a node reports to the coordinator are the ones members, the gateway and clients dial:
/// a wildcard bind address cannot be one of them (another machine cannot dial 0.0.0.0, and a peer
/// that does reaches itself), so a joining node says which host it is reached at.
/// </summary>
public sealed class AdvertiseHostTests
{
    [Fact]
    public async Task AJoiningNodeBoundToEveryAddressRefusesToStartWithoutAnAdvertisedHost()
    {
        using var dir = new TempDirectory("advertise");
        var authFile = dir.Combine("auth.json");
        var token = await RingKvProcess.RunAsync(["token", "create", "--role", "admin", "--auth-file", authFile], Deadlines.Command);
        Assert.True(token.ExitCode == ExitCodes.Success, token.Description);

        var result = await RingKvProcess.RunAsync(
            ["node", "--join", "http://127.0.0.1:9", "--bind", "0.0.0.0", "--auth-file", authFile, "--engine", "memory", "--port", "0", "--data-dir", dir.Combine("data")],
            Deadlines.Command);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.Description);
        Assert.Contains("--advertise-host", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCoordinatorListsTheNodeAtItsAdvertisedHost()
    {
        using var dir = new TempDirectory("advertise");
        await using var coordinator = RingKvProcess.Start(["coordinator", "--port", "0", "--replicas", "1", "--data-dir", dir.Combine("coordinator")], new RingKvProcessOptions());
        var coordinatorUrl = await coordinator.WaitForUrlAsync(Deadlines.NodeStart);
        await using var node = RingKvProcess.Start(
            ["node", "--join", coordinatorUrl.ToString(), "--advertise-host", "localhost", "--port", "0", "--engine", "memory", "--data-dir", dir.Combine("node")],
            new RingKvProcessOptions());
        var nodeUrl = await node.WaitForUrlAsync(Deadlines.NodeStart);
        using var client = new RingKvClient(coordinatorUrl);

        ClusterNodeStatus? member = null;
        await Eventually.WaitUntilAsync(async () => (member = (await client.GetClusterAsync()).Nodes.SingleOrDefault()) is { State: "up" }, Deadlines.NodeStart,
            () => $"The node did not come up in the coordinator's map (last seen: {member}). {node.Describe()}");

        // Up in the coordinator's map is not yet served: the node must have received that map too.
        using var nodeHttp = new HttpClient { BaseAddress = nodeUrl };
        await Eventually.WaitUntilAsync(async () =>
        {
            using var ready = await nodeHttp.GetAsync("/health/ready");
            return ready.IsSuccessStatusCode;
        }, Deadlines.NodeStart,
            () => $"The node did not report ready. {node.Describe()}");

        Assert.Equal($"http://localhost:{nodeUrl.Port}", member!.ClientUrl);
        Assert.Equal("localhost", nodeUrl.Host);
        // Reached by that name, through the gateway, the node serves the key.
        await client.PutAsync("advertised/k", "v");
        Assert.NotNull(await client.GetAsync("advertised/k"));
    }
}
