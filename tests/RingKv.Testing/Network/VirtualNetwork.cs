using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace RingKv.Testing.Network;

/// <summary>
/// A private network of Linux network namespaces for real partition tests: every host is a
/// namespace with its own address and a veth whose other end is plugged into a bridge in the test's
/// namespace. A partition moves some hosts' veth ends onto another bridge (an island): packets
/// between islands are silently dropped, as on a real network whose switch failed, so connections
/// hang and time out rather than being refused. Healing plugs every veth back into the first
/// bridge. Needs root and iproute2 (<c>ip</c>) only.
/// </summary>
/// <remarks>
/// The test's own namespace gets no address on these bridges: its clients open their sockets inside
/// a host's namespace (<see cref="NetworkHost.CreateHttpClient"/>), so a client is on the side of
/// the partition its host is on, and two test runs may use the same subnet without a routing clash.
/// Every name starts with <c>rkp{test process id}{letter}</c>: what a crashed run left behind is
/// recognised by its dead process id and removed by the next run.
/// </remarks>
public sealed partial class VirtualNetwork : IDisposable
{
    private const string NamePrefix = "rkp";
    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(20);
    private static readonly Lock Gate = new();
    private static int _instances;
    private static bool _leftoversRemoved;

    private readonly string _prefix;
    private readonly string _subnet;
    private readonly List<NetworkHost> _hosts = [];
    private readonly HashSet<string> _bridges = [];
    private int _islands;

    private VirtualNetwork(string prefix, string subnet)
    {
        _prefix = prefix;
        _subnet = subnet;
    }

    /// <summary>The bridge every host is plugged into while the network is whole.</summary>
    private string MainBridge => _prefix + "b0";

    public IReadOnlyList<NetworkHost> Hosts => _hosts;

    /// <summary>What every namespace, link and bridge of this network is named with.</summary>
    public string Prefix => _prefix;

    /// <summary>Names of this process's namespaces and links that exist now.</summary>
    public IReadOnlyList<string> ExistingNames() =>
        [.. ListNamespaces().Concat(ListLinks()).Where(n => n.StartsWith(_prefix, StringComparison.Ordinal) && OurName().IsMatch(n))];

    /// <summary>Why namespaces cannot be used here (not Linux, not root, no <c>ip</c>), or null when they can.</summary>
    public static string? UnavailableReason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network partition tests need Linux network namespaces";
        }
        if (!IsRoot())
        {
            return "network partition tests need root (ip netns, veth, bridges); run the suite as root, as CI does";
        }
        if (!File.Exists("/usr/sbin/ip") && !File.Exists("/sbin/ip") && !File.Exists("/usr/bin/ip") && !File.Exists("/bin/ip"))
        {
            return "network partition tests need iproute2 ('ip'); .ci/run installs it";
        }
        return null;
    }

    /// <param name="subnet">The first three octets of the hosts' /24, e.g. "10.77.0". Hosts get .2 upwards.</param>
    public static VirtualNetwork Create(string subnet = "10.77.0")
    {
        var reason = UnavailableReason();
        if (reason is not null)
        {
            throw new InvalidOperationException("Cannot build a virtual network: " + reason + ".");
        }
        int instance;
        lock (Gate)
        {
            if (!_leftoversRemoved)
            {
                // Nothing of this process exists yet: names with its id are a crashed run's that had it before.
                RemoveLeftovers(includeOwnId: true);
                _leftoversRemoved = true;
            }
            instance = _instances++;
        }
        // Interface names are at most 15 bytes: "rkp" + pid (<= 7 digits) + letter + "b"/"h" + 2 digits.
        var prefix = NamePrefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + (char)('a' + (instance % 26));
        var network = new VirtualNetwork(prefix, subnet);
        try
        {
            network.AddBridge(network.MainBridge);
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>A new host: its namespace (loopback up), a veth plugged into the main bridge, and the next address.</summary>
    public NetworkHost AddHost(string name)
    {
        var index = _hosts.Count + 1;
        if (index > 60)
        {
            throw new InvalidOperationException("A virtual network holds at most 60 hosts.");
        }
        var host = new NetworkHost(name, _prefix + "n" + index.ToString(CultureInfo.InvariantCulture),
            _prefix + "h" + index.ToString(CultureInfo.InvariantCulture), IPAddress.Parse(_subnet + "." + (index + 1).ToString(CultureInfo.InvariantCulture)));
        _hosts.Add(host);
        Ip("netns", "add", host.Namespace);
        Ip("-n", host.Namespace, "link", "set", "lo", "up");
        Ip("link", "add", host.HostVeth, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
        Ip("-n", host.Namespace, "addr", "add", host.Address + "/24", "dev", "eth0");
        Ip("-n", host.Namespace, "link", "set", "eth0", "up");
        Ip("link", "set", host.HostVeth, "master", MainBridge, "up");
        host.Bridge = MainBridge;
        return host;
    }

    /// <summary>
    /// Cuts these hosts off from every host not listed: they move together onto a bridge of their
    /// own, so they still reach each other. Returns at once; packets already in flight are lost.
    /// </summary>
    public void Isolate(params NetworkHost[] island)
    {
        ArgumentNullException.ThrowIfNull(island);
        var bridge = _prefix + "b" + (++_islands).ToString(CultureInfo.InvariantCulture);
        AddBridge(bridge);
        foreach (var host in island)
        {
            Ip("link", "set", host.HostVeth, "master", bridge);
            host.Bridge = bridge;
        }
    }

    /// <summary>Plugs every host back into the main bridge and removes the islands' bridges.</summary>
    public void Heal()
    {
        foreach (var host in _hosts.Where(h => h.Bridge != MainBridge))
        {
            Ip("link", "set", host.HostVeth, "master", MainBridge);
            host.Bridge = MainBridge;
        }
        foreach (var bridge in _bridges.Where(b => b != MainBridge).ToList())
        {
            Ip("link", "del", bridge);
            _bridges.Remove(bridge);
        }
    }

    /// <summary>Which hosts can reach each other now: one group per bridge in use.</summary>
    public IReadOnlyList<IReadOnlyList<NetworkHost>> Islands() =>
        [.. _hosts.GroupBy(h => h.Bridge).Select(g => (IReadOnlyList<NetworkHost>)[.. g])];

    public void Dispose()
    {
        // Processes are their owners' to stop (by id) before this; the links and namespaces are ours.
        RemoveByPrefix(_prefix);
    }

    private void AddBridge(string name)
    {
        Ip("link", "add", name, "type", "bridge");
        _bridges.Add(name);
        Ip("link", "set", name, "up");
    }

    /// <summary>Removes the namespaces and links of runs whose test process is gone (a crash or a kill skipped their cleanup).</summary>
    public static void RemoveLeftovers() => RemoveLeftovers(includeOwnId: false);

    private static void RemoveLeftovers(bool includeOwnId)
    {
        var prefixes = ListNamespaces().Concat(ListLinks())
            .Select(name => OurName().Match(name))
            .Where(m => m.Success)
            .Select(m => (Prefix: m.Groups["prefix"].Value, Pid: int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture)))
            .Where(p => p.Pid == Environment.ProcessId ? includeOwnId : !Directory.Exists("/proc/" + p.Pid.ToString(CultureInfo.InvariantCulture)))
            .Select(p => p.Prefix)
            .Distinct();
        foreach (var prefix in prefixes)
        {
            RemoveByPrefix(prefix);
        }
    }

    private static void RemoveByPrefix(string prefix)
    {
        foreach (var ns in ListNamespaces().Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && OurName().IsMatch(n)))
        {
            // What still runs in a dead run's namespace was started by that run (its nodes).
            foreach (var pid in TryRun("ip", "netns", "pids", ns).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(pid, CultureInfo.InvariantCulture, out var id))
                {
                    try
                    {
                        using var process = Process.GetProcessById(id);
                        process.Kill(entireProcessTree: true);
                        process.WaitForExit(CommandDeadline);
                    }
                    catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                    {
                        // Already gone.
                    }
                }
            }
            TryRun("ip", "netns", "del", ns);
        }
        // Deleting a namespace deletes the veth ends inside it and their peers; bridges remain.
        foreach (var link in ListLinks().Where(l => l.StartsWith(prefix, StringComparison.Ordinal) && OurName().IsMatch(l)))
        {
            TryRun("ip", "link", "del", link);
        }
    }

    private static IEnumerable<string> ListNamespaces() =>
        TryRun("ip", "netns", "list").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', 2)[0].Trim());

    private static IEnumerable<string> ListLinks() =>
        TryRun("ip", "-o", "link", "show").Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(':', 3))
            .Where(parts => parts.Length >= 2)
            .Select(parts => parts[1].Trim().Split('@')[0]);

    private static void Ip(params string[] args)
    {
        var (exitCode, output) = TryRun("ip", args);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"'ip {string.Join(' ', args)}' failed with exit code {exitCode}: {output.Trim()}");
        }
    }

    private static (int ExitCode, string Output) TryRun(string fileName, params string[] args)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandDeadline))
        {
            process.Kill();
            throw new TimeoutException($"'{fileName} {string.Join(' ', args)}' did not finish within {CommandDeadline.TotalSeconds} s.");
        }
        return (process.ExitCode, stdout.GetAwaiter().GetResult() + stderr.GetAwaiter().GetResult());
    }

    internal static bool IsRoot()
    {
        try
        {
            return File.ReadAllLines("/proc/self/status").Any(line => line.StartsWith("Uid:", StringComparison.Ordinal) && line.Split('\t', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(2) == "0");
        }
        catch (IOException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^(?<prefix>rkp(?<pid>\d{1,7})[a-z])[bhn]\d{1,2}$")]
    private static partial Regex OurName();
}
