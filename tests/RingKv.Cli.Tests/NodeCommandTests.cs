using System.Net;
using System.Net.Sockets;
using RingKv.Client;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary><c>node</c> and <c>up</c> as real processes: the announcement line, durable data, clean stops on SIGTERM.</summary>
public sealed class NodeCommandTests
{
    [Fact]
    public async Task NodeAnnouncesItsRealUrlAsTheOnlyLineOnStandardOutput()
    {
        await using var node = RingKvProcess.Start("node", "--port", "0", "--engine", "memory");
        var url = await node.WaitForUrlAsync(Deadlines.NodeStart);
        using (var client = new RingKvClient(url))
        {
            await client.PutAsync("announce/k", "v");
        }

        node.Terminate();
        var exitCode = await node.WaitForExitAsync(Deadlines.NodeStop);

        Assert.True(exitCode == ExitCodes.Success, node.Describe());
        Assert.Equal("127.0.0.1", url.Host);
        Assert.NotEqual(0, url.Port);
        // One line: the URL, then the RESP address in parentheses (a node listens for Redis clients too).
        var resp = node.AnnouncedRespUrl;
        Assert.NotNull(resp);
        Assert.NotEqual(url.Port, resp.Port);
        Assert.Equal([$"RingKV node listening on http://127.0.0.1:{url.Port} (RESP redis://127.0.0.1:{resp.Port})"], node.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task RocksDbNodeServesItsDataAgainAfterACleanRestart()
    {
        using var dataDir = new TempDirectory("cli-rocksdb");
        string[] args = ["node", "--port", "0", "--engine", "rocksdb", "--data-dir", dataDir.Path];

        await using (var first = RingKvProcess.Start(args))
        {
            var url = await first.WaitForUrlAsync(Deadlines.NodeStart);
            var put = await RingKvProcess.RunAsync(["put", "durable/greeting", "still here", "--url", url.ToString()], Deadlines.Command);
            Assert.True(put.ExitCode == ExitCodes.Success, put.Description);

            first.Terminate();
            Assert.True(await first.WaitForExitAsync(Deadlines.NodeStop) == ExitCodes.Success, first.Describe());
        }

        await using var second = RingKvProcess.Start(args);
        var secondUrl = await second.WaitForUrlAsync(Deadlines.NodeStart);
        var get = await RingKvProcess.RunAsync(["get", "durable/greeting", "--url", secondUrl.ToString()], Deadlines.Command);
        Assert.True(get.ExitCode == ExitCodes.Success, $"{get.Description}\nnode: {second.Describe()}");
        Assert.Equal("still here", get.StandardOutput);
    }

    [Fact]
    public async Task UpStartsADurableNodeInTheDataDirectoryAndStopsCleanlyOnSigterm()
    {
        using var dataDir = new TempDirectory("cli-up");
        await using var up = RingKvProcess.Start("up", "--port", "0", "--resp-port", "0", "--data-dir", dataDir.Path);

        var url = await up.WaitForUrlAsync(Deadlines.ClusterStart);
        Assert.StartsWith("RingKV is up at http://127.0.0.1:", up.StandardOutput, StringComparison.Ordinal);
        var put = await RingKvProcess.RunAsync(["put", "up/k", "v", "--url", url.ToString()], Deadlines.Command);
        Assert.True(put.ExitCode == ExitCodes.Success, put.Description);
        // The gateway hands requests to the nodes in turn, so every node coordinates writes and
        // holds internode streams to its peers: each node then serves streams that a stopping peer
        // holds open, which is what once kept the nodes from stopping by themselves.
        using (var client = new RingKvClient(url))
        {
            for (var i = 0; i < 20; i++)
            {
                await client.PutAsync($"up/k{i}", "v");
            }
        }

        up.Terminate();
        Assert.True(await up.WaitForExitAsync(Deadlines.NodeStop) == ExitCodes.Success, up.Describe());
        // Every node stopped by itself: none had to be killed.
        Assert.DoesNotContain("did not stop", up.StandardOutput + up.StandardError, StringComparison.Ordinal);
        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(dataDir.Path));
    }

    [Fact]
    public async Task NodeExitsWithThreeWhenItsPortIsTaken()
    {
        using var occupier = new TcpListener(IPAddress.Loopback, 0);
        occupier.Start();
        var port = ((IPEndPoint)occupier.LocalEndpoint).Port;

        var result = await RingKvProcess.RunAsync(["node", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--engine", "memory"], Deadlines.NodeStart);

        Assert.True(result.ExitCode == ExitCodes.Failure, result.Description);
        Assert.Contains("could not start", result.StandardError, StringComparison.Ordinal);
    }
}
