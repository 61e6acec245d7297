using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RingKv.Testing.Network;

namespace RingKv.Cluster.Tests.Partitions;

/// <summary>The partition harness itself: a cut drops packets silently between islands only, a heal restores them, nothing is left behind.</summary>
public sealed class VirtualNetworkTests
{
    private static readonly TimeSpan Reachable = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Dropped = TimeSpan.FromSeconds(1.5);

    [PartitionFact]
    public async Task IsolatedHostsReachEachOtherButNotTheRestUntilHealed()
    {
        string[] names;
        using (var network = VirtualNetwork.Create("10.78.0"))
        {
            var (a, b, c) = (network.AddHost("a"), network.AddHost("b"), network.AddHost("c"));
            using var listenerA = Listen(a);
            using var listenerC = Listen(c);
            Assert.True(await ConnectsAsync(b, listenerA, Reachable), "b cannot reach a on a whole network");

            network.Isolate(a, c);
            Assert.False(await ConnectsAsync(b, listenerA, Dropped), "b still reaches a across the cut");
            Assert.True(await ConnectsAsync(c, listenerA, Reachable), "a and c, on the same island, cannot reach each other");
            Assert.True(await ConnectsAsync(a, listenerA, Reachable), "a cannot reach itself: a client on a's side must");
            Assert.Equal(2, network.Islands().Count);

            network.Heal();
            Assert.True(await ConnectsAsync(b, listenerA, Reachable), "b does not reach a after healing");
            Assert.Single(network.Islands());
            names = [.. network.ExistingNames()];
            Assert.Contains(names, n => n.EndsWith("n1", StringComparison.Ordinal));
        }
        // Disposed: none of its namespaces, veths or bridges is left.
        var left = ListedByIp();
        Assert.Empty(Array.FindAll(names, left.Contains));
    }

    [PartitionFact]
    public void RemovesWhatACrashedRunLeftBehind()
    {
        // No process can have this id (above the kernel's pid_max): a run that is certainly gone.
        const string Dead = "rkp9999999z";
        Ip("netns", "add", Dead + "n1");
        Ip("link", "add", Dead + "b0", "type", "bridge");
        Assert.Contains(Dead + "n1", ListedByIp());
        VirtualNetwork.RemoveLeftovers();
        var left = ListedByIp();
        Assert.DoesNotContain(Dead + "n1", left);
        Assert.DoesNotContain(Dead + "b0", left);
    }

    private static Socket Listen(NetworkHost host)
    {
        var socket = host.CreateTcpSocket();
        socket.Bind(new IPEndPoint(host.Address, 0));
        socket.Listen();
        return socket;
    }

    /// <summary>Whether a connection from the host to the listener is accepted in time; a refusal would fail the test, since a cut must drop, not refuse.</summary>
    private static async Task<bool> ConnectsAsync(NetworkHost from, Socket listener, TimeSpan deadline)
    {
        using var client = from.CreateTcpSocket();
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await client.ConnectAsync(listener.LocalEndPoint!, timeout.Token);
            using var accepted = await listener.AcceptAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static HashSet<string> ListedByIp()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in Ip("netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            names.Add(line.Split(' ')[0]);
        }
        foreach (var line in Ip("-o", "link", "show").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            names.Add(line.Split(':')[1].Trim().Split('@')[0]);
        }
        return names;
    }

    private static string Ip(params string[] args)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), "ip " + string.Join(' ', args) + " hangs");
        Assert.True(process.ExitCode == 0, $"ip {string.Join(' ', args)}: {output}");
        return output;
    }
}
