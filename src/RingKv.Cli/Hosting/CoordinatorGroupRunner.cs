using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using RingKv.Cli.Configuration;
using RingKv.Coordinator.Hosting;
using RingKv.Coordinator.Launching;
using RingKv.Core.Supervision;

namespace RingKv.Cli.Hosting;

/// <summary>
/// <c>ringkv up</c> with a coordinator group: starts the members as processes of their own, all
/// sharing the printed port (SO_REUSEPORT, so the URL is served by whichever members are alive),
/// supervises them (a member that exits unasked is started again on its own data directory, under
/// the same restart budget as a node), waits for a leader, has the leader start the nodes, prints
/// the URL, and on Ctrl+C or SIGTERM stops the members and every node they started.
/// </summary>
public sealed class CoordinatorGroupRunner(CoordinatorOptions options, int members, string? adminToken)
{
    private const string LayoutFile = "coordinators.json";
    private readonly string _data = Path.GetFullPath(options.DataDirectory);
    // Touched by every member's supervising task and by the stop: concurrent.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Process> _processes = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RestartBudget> _budgets = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    public async Task<int> RunAsync(int nodes, Func<string, string> announcement, Func<string, string> hint)
    {
        var layout = LoadOrCreateLayout();
        // Port 0 asks for free ports: chosen here, since every member must bind the same one.
        if (options.Port == 0)
        {
            options.Port = FreePorts(1)[0];
        }
        if (options.RespEnabled && options.RespPort == 0)
        {
            options.RespPort = FreePorts(1)[0];
        }
        var scheme = options.TlsCertificateFile is null ? "http" : "https";
        var peers = string.Join(',', layout.Select(m => $"{m.Id}={scheme}://127.0.0.1:{m.ApiPort.ToString(CultureInfo.InvariantCulture)}@{m.RaftPort.ToString(CultureInfo.InvariantCulture)}"));
        var configFile = Path.Combine(_data, "coordinator", "member.json");
        Directory.CreateDirectory(Path.GetDirectoryName(configFile)!);
        options.DataDirectory = _data;
        ConfigFile.WriteCoordinator(options, configFile);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context => { context.Cancel = true; _stopping.Cancel(); });
        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, context => { context.Cancel = true; _stopping.Cancel(); });
        foreach (var member in layout)
        {
            Start(member.Id, configFile, peers);
        }
        var url = $"{scheme}://127.0.0.1:{options.Port.ToString(CultureInfo.InvariantCulture)}";
        using var http = ClientFor();
        try
        {
            await Console.Error.WriteLineAsync($"Coordinator group of {members} at {url}; electing a leader, then starting {nodes} nodes (replication factor {options.ReplicationFactor})...");
            var cluster = await WaitForAsync(http, url, c => c.TryGetProperty("leader", out var leader) && leader.ValueKind == JsonValueKind.String && c.GetProperty("committed").GetBoolean(), TimeSpan.FromSeconds(60));
            var have = cluster.GetProperty("nodes").GetArrayLength();
            for (var i = have; i < nodes; i++)
            {
                var added = await http.PostAsync(new Uri(url + "/v1/cluster/nodes"), null, _stopping.Token);
                // 503: the member asked has no leader yet (it learns of the elected one at its first heartbeat).
                for (var retry = 0; added.StatusCode == HttpStatusCode.ServiceUnavailable && retry < 50; retry++)
                {
                    added.Dispose();
                    await Task.Delay(200, _stopping.Token);
                    added = await http.PostAsync(new Uri(url + "/v1/cluster/nodes"), null, _stopping.Token);
                }
                using var answer = added;
                if (!added.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"ringkv: the coordinator group could not start a node: {(int)added.StatusCode} {await added.Content.ReadAsStringAsync()}");
                    await StopAsync();
                    return ExitCodes.Failure;
                }
            }
            // Up, and heard from: a map taken over from a single coordinator says "up" for nodes the
            // leader has yet to start again.
            await WaitForAsync(http, url, c => c.GetProperty("nodes").EnumerateArray().Count(m => m.GetProperty("state").GetString() == "up" &&
                m.TryGetProperty("lastHeartbeatAgeMs", out var age) && age.ValueKind == JsonValueKind.Number && age.GetInt64() < 3000) >= nodes, TimeSpan.FromSeconds(180));
            await WaitForNodesToHoldTheMapAsync(http, url, TimeSpan.FromSeconds(60));
            await Console.Out.WriteLineAsync(announcement(url) + (options.RespEnabled ? $" (RESP {(scheme == "https" ? "rediss" : "redis")}://127.0.0.1:{options.RespPort.ToString(CultureInfo.InvariantCulture)})" : string.Empty));
            await Console.Out.FlushAsync();
            await Console.Error.WriteLineAsync(hint(url));
            await Task.Delay(Timeout.Infinite, _stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e) when (e is not TimeoutException)
        {
            // Whatever went wrong, the members and nodes started so far must not outlive us.
            await StopAsync();
            throw;
        }
        catch (TimeoutException e)
        {
            await Console.Error.WriteLineAsync($"ringkv: {e.Message} Member logs: {Path.Combine(_data, "coordinator")}/*/coordinator.log");
            await StopAsync();
            return ExitCodes.Failure;
        }
        await StopAsync();
        return ExitCodes.Success;
    }

    private HttpClient ClientFor()
    {
        var http = new HttpClient(RingKv.Client.TrustedAuthority.CreateHandler(options.TlsAuthorityFile)) { Timeout = TimeSpan.FromSeconds(90) };
        if (adminToken is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        }
        return http;
    }

    private async Task<JsonElement> WaitForAsync(HttpClient http, string url, Func<JsonElement, bool> condition, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        while (DateTime.UtcNow < until)
        {
            _stopping.Token.ThrowIfCancellationRequested();
            try
            {
                using var response = await http.GetAsync(new Uri(url + "/v1/cluster"), _stopping.Token);
                if (response.IsSuccessStatusCode)
                {
                    using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(_stopping.Token));
                    if (condition(document.RootElement))
                    {
                        return document.RootElement.Clone();
                    }
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200, _stopping.Token);
        }
        throw new TimeoutException($"The coordinator group was not ready within {deadline.TotalSeconds:0} s.");
    }

    /// <summary>
    /// Waits until every node holds the group's epoch. Nodes the leader started again after a
    /// takeover listen on new ports, and a peer reaches one at its new address only once it has the
    /// map that says so: until then a read through it finds too few replicas.
    /// </summary>
    private async Task WaitForNodesToHoldTheMapAsync(HttpClient http, string url, TimeSpan deadline)
    {
        var until = DateTime.UtcNow + deadline;
        var behind = "no answer yet";
        while (DateTime.UtcNow < until)
        {
            _stopping.Token.ThrowIfCancellationRequested();
            try
            {
                using var cluster = JsonDocument.Parse(await http.GetStringAsync(new Uri(url + "/v1/cluster"), _stopping.Token));
                var epoch = cluster.RootElement.GetProperty("epoch").GetInt64();
                var lagging = new List<string>();
                foreach (var node in cluster.RootElement.GetProperty("nodes").EnumerateArray())
                {
                    using var located = JsonDocument.Parse(await http.GetStringAsync(new Uri(node.GetProperty("clientUrl").GetString()!.TrimEnd('/') + "/v1/cluster/locate/probe"), _stopping.Token));
                    if (located.RootElement.GetProperty("epoch").GetInt64() != epoch)
                    {
                        lagging.Add(node.GetProperty("id").GetString()!);
                    }
                }
                if (lagging.Count == 0)
                {
                    return;
                }
                behind = $"{string.Join(", ", lagging)} behind epoch {epoch.ToString(CultureInfo.InvariantCulture)}";
            }
            catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                behind = e.Message;
            }
            await Task.Delay(200, _stopping.Token);
        }
        throw new TimeoutException($"The nodes did not all receive the cluster map within {deadline.TotalSeconds:0} s ({behind}).");
    }

    private void Start(string id, string configFile, string peers)
    {
        var directory = Path.Combine(_data, "coordinator", id);
        Directory.CreateDirectory(directory);
        var start = SelfExecutable.StartInfo(["coordinator", "--config", configFile, "--member-id", id, "--peers", peers]);
        var shell = SelfExecutable.WritingTo(start, Path.Combine(directory, "coordinator.log"));
        var process = Process.Start(shell) ?? throw new InvalidOperationException($"Could not start coordinator member {id}.");
        _processes[id] = process;
        _ = SuperviseAsync(id, process, configFile, peers);
    }

    /// <summary>A member that exits unasked is started again on its own data directory; five exits within a minute leave it down.</summary>
    private async Task SuperviseAsync(string id, Process process, string configFile, string peers)
    {
        try
        {
            await process.WaitForExitAsync(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        // Always, whatever --no-supervise says of nodes: a member restarted on its own data
        // directory rejoins the group with its log, and without restarts two deaths in a row
        // would leave the group without a majority.
        var budget = _budgets.GetOrAdd(id, _ => RestartBudget.Default());
        if (!budget.OnCrash(DateTimeOffset.UtcNow))
        {
            await Console.Error.WriteLineAsync($"ringkv: coordinator member {id} exited {budget.MaxCrashes} times within {budget.Period.TotalSeconds:0} s; it is left down (the group runs on with the others).");
            return;
        }
        await Console.Error.WriteLineAsync($"ringkv: coordinator member {id} exited (code {process.ExitCode}){LastWords(id)}; starting it again in {budget.Backoff.TotalSeconds:0.##} s.");
        try
        {
            await Task.Delay(budget.Backoff, _stopping.Token);
            Start(id, configFile, peers);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The last error a member logged before it exited, so the reason is on the terminal and not only in its log.</summary>
    private string LastWords(string id)
    {
        try
        {
            var line = File.ReadLines(Path.Combine(_data, "coordinator", id, "coordinator.log"))
                .TakeLast(40)
                .LastOrDefault(l => l.Contains("rror", StringComparison.Ordinal) || l.Contains("xception", StringComparison.Ordinal) || l.StartsWith("ringkv:", StringComparison.Ordinal));
            return line is null ? string.Empty : ": " + line.Trim();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    /// <summary>SIGTERM to the members, then to every node they started (found by its data directory under ours), SIGKILL after 15 s.</summary>
    private async Task StopAsync()
    {
        await _stopping.CancelAsync();
        var processes = _processes.Values.Where(p => !p.HasExited).Select(p => p.Id).Concat(NodeProcesses()).Distinct().ToList();
        foreach (var pid in processes)
        {
            UnixSignals.Send(pid, UnixSignals.SigTerm);
        }
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline && processes.Any(Alive))
        {
            await Task.Delay(100);
        }
        var stuck = processes.Where(Alive).ToList();
        if (stuck.Count > 0)
        {
            await Console.Error.WriteLineAsync($"ringkv: {stuck.Count} processes did not stop within 15 s of SIGTERM; killed.");
        }
        foreach (var pid in stuck)
        {
            UnixSignals.Send(pid, 9);
        }
    }

    private static bool Alive(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone between two looks.
            return false;
        }
    }

    /// <summary>Processes running a node on a data directory under ours: the nodes this cluster started, whichever member started them.</summary>
    private IEnumerable<int> NodeProcesses()
    {
        var marker = Path.Combine(_data, "nodes") + Path.DirectorySeparatorChar;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            string commandLine;
            try
            {
                commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            if (commandLine.Contains("\0node\0", StringComparison.Ordinal) && commandLine.Contains("\0--data-dir\0" + marker, StringComparison.Ordinal))
            {
                yield return pid;
            }
        }
    }

    /// <summary>The members' ports, chosen once (free ones) and kept, so a restarted <c>up</c> finds the same group.</summary>
    private List<MemberLayout> LoadOrCreateLayout()
    {
        Directory.CreateDirectory(_data);
        var path = Path.Combine(_data, LayoutFile);
        if (File.Exists(path))
        {
            var known = JsonSerializer.Deserialize<List<MemberLayout>>(File.ReadAllText(path), LayoutJson) ?? [];
            if (known.Count == members)
            {
                return known;
            }
            throw new UsageException($"{path} describes a group of {known.Count} coordinators; run with --coordinators {known.Count}.");
        }
        var ports = FreePorts(members * 2);
        var layout = Enumerable.Range(0, members).Select(i => new MemberLayout("c" + (i + 1).ToString(CultureInfo.InvariantCulture), ports[2 * i], ports[(2 * i) + 1])).ToList();
        File.WriteAllText(path, JsonSerializer.Serialize(layout, LayoutJson));
        return layout;
    }

    private static readonly JsonSerializerOptions LayoutJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase, WriteIndented = true };

    /// <summary>
    /// Free ports below the kernel's ephemeral range. The members' ports are chosen here, released,
    /// then bound by the members (and again by every member restarted later): a port from the
    /// ephemeral range could meanwhile become the local end of any process's outgoing connection,
    /// and the member would fail to bind it on every restart.
    /// </summary>
    private static List<int> FreePorts(int count)
    {
        var ephemeralLow = 32768;
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            ephemeralLow = int.Parse(range[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
        }
        var low = Math.Max(1024, ephemeralLow - 12_000);
        var high = Math.Max(low + count, ephemeralLow);
        var ports = new List<int>(count);
        var candidate = Random.Shared.Next(low, high);
        for (var tried = 0; ports.Count < count && tried < high - low; tried++, candidate = candidate + 1 >= high ? low : candidate + 1)
        {
            if (IsFree(candidate))
            {
                ports.Add(candidate);
            }
        }
        return ports.Count == count ? ports : throw new InvalidOperationException($"No {count} free ports between {low} and {high}.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private sealed record MemberLayout(string Id, int ApiPort, int RaftPort);
}
