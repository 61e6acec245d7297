using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using RingKv.Coordinator.Hosting;
using RingKv.Coordinator.Membership;
using RingKv.Core.Cluster;
using RingKv.Core.Supervision;

namespace RingKv.Coordinator.Launching;

/// <summary>
/// Starts storage nodes as child processes of the coordinator (the design note: hash-table
/// servers are started by the ring server), each with its own ports and data directory, and
/// waits until it has joined. Supervises them: a node that exits without being asked to is started
/// again on its own data directory, within the eviction grace period, so it comes back as the same
/// member (hints replay, nothing is transferred), under a <see cref="RestartBudget"/> per node.
/// Stops them when the coordinator stops.
/// </summary>
public sealed partial class NodeLauncher(CoordinatorOptions options, MembershipService membership, TimeProvider time, ILogger<NodeLauncher> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Process> _processes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RestartBudget> _budgets = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _launchLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private uint _lastLaunched;

    /// <summary>
    /// Whether exited nodes are started again: on by default, off with <c>--no-supervise</c> and for
    /// the memory engine, whose node comes back empty (a restart would present an empty replica as
    /// one that holds its ranges; evicting it rebuilds its copies from the others instead).
    /// </summary>
    public bool Supervises => options.SuperviseNodes && options.NodeEngine != "memory";

    /// <summary>The URL nodes use to reach the coordinator; known once it listens.</summary>
    public string? CoordinatorUrl { get; set; }

    public IReadOnlyDictionary<string, Process> Processes => _processes;

    /// <summary>
    /// Launches one node and returns its member entry once it has been admitted. With
    /// <paramref name="existingId"/>, restarts that member on its own data directory (after the
    /// coordinator itself was restarted); otherwise starts a new member.
    /// </summary>
    public async Task<ClusterMember> LaunchAsync(string? existingId, CancellationToken cancellationToken)
    {
        var coordinatorUrl = CoordinatorUrl ?? throw new InvalidOperationException("The coordinator is not listening yet.");
        string id;
        await _launchLock.WaitAsync(cancellationToken);
        try
        {
            if (existingId is not null)
            {
                id = existingId;
            }
            else
            {
                _lastLaunched = Math.Max(_lastLaunched, membership.Map.HighestMemberNumber) + 1;
                id = "n" + _lastLaunched.ToString(CultureInfo.InvariantCulture);
            }
        }
        finally
        {
            _launchLock.Release();
        }
        var dataDirectory = Path.GetFullPath(Path.Combine(options.DataDirectory, "nodes", id));
        Directory.CreateDirectory(dataDirectory);
        var logPath = Path.Combine(dataDirectory, "node.log");
        var start = SelfExecutable.StartInfo(
        [
            "node",
            // First: the flags after it win over the file's node section.
            .. (options.NodeConfigFile is { } nodeConfig ? new[] { "--config", Path.GetFullPath(nodeConfig) } : []),
            "--join", coordinatorUrl,
            "--node-name", id,
            "--bind", options.BindAddress,
            // Launched nodes run on this machine: with a wildcard bind, they are reached through loopback.
            .. (IsWildcard(options.BindAddress) ? new[] { "--advertise-host", "127.0.0.1" } : []),
            "--port", "0",
            "--internode-port", "0",
            .. (options.RespEnabled ? new[] { "--resp-port", "0" } : ["--no-resp"]),
            "--data-dir", dataDirectory,
            "--engine", options.NodeEngine,
            "--fsync", options.NodeFsync.ToString().ToLowerInvariant(),
            "--synced-acks", options.NodeSyncedAcks.ToString().ToLowerInvariant(),
            .. (options.AuthFile is { } authFile ? new[] { "--auth-file", Path.GetFullPath(authFile) } : []),
            // The path, never the secret itself: a command line is readable by every user.
            .. (options.ClusterSecretFile is { } secretFile ? new[] { "--cluster-secret-file", Path.GetFullPath(secretFile) } : []),
            .. (options.TlsCertificateFile is { } certificate && options.TlsKeyFile is { } key && options.TlsAuthorityFile is { } authority
                ? new[] { "--tls-cert", Path.GetFullPath(certificate), "--tls-key", Path.GetFullPath(key), "--tls-ca", Path.GetFullPath(authority) }
                : []),
        ]);
        var process = Process.Start(SelfExecutable.WritingTo(start, logPath)) ?? throw new InvalidOperationException("Could not start a node process.");
        _processes[id] = process;
        if (Supervises)
        {
            membership.Health.RecordSupervision(id, _budgets.TryGetValue(id, out var budget) ? budget.Restarts : 0, gaveUp: false);
        }
        _ = SuperviseAsync(id, process);
        LogLaunched(logger, id, process.Id, dataDirectory);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.LaunchTimeout);
        try
        {
            while (true)
            {
                var map = membership.Map;
                if (map.FindMember(id) is { } member && membership.Health.ProcessIdOf(id) == process.Id)
                {
                    // Committed, so whichever member leads next keeps supervising it.
                    await membership.RecordLaunchedAsync(id, process.Id, cancellationToken);
                    return member;
                }
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"Node {id} exited with code {process.ExitCode} before joining. Its log: {logPath}");
                }
                await membership.WaitForNewerAsync(map.Epoch, TimeSpan.FromMilliseconds(250), timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Stop(id, process);
            throw new TimeoutException($"Node {id} did not join within {options.LaunchTimeout.TotalSeconds:0} s. Its log: {logPath}");
        }
    }

    /// <summary>
    /// Whether a node another member of the group started (and recorded) still runs: its process
    /// exists, is not a zombie, and runs on that node's data directory (a reused process id is not it).
    /// </summary>
    public bool IsRunning(string id, int processId)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{processId}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            var commandLine = File.ReadAllText($"/proc/{processId}/cmdline").Replace('\0', ' ');
            return state != "Z" && commandLine.Contains(Path.GetFullPath(Path.Combine(options.DataDirectory, "nodes", id)), StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Starts again a node the group started that is no longer running and that no process here
    /// watches (its starter was another member, now gone or no longer leading), under the same
    /// restart budget as a node's own exit.
    /// </summary>
    public async Task AdoptAsync(string id, CancellationToken cancellationToken)
    {
        if (_processes.ContainsKey(id) || !Supervises)
        {
            return;
        }
        var budget = _budgets.GetOrAdd(id, _ => RestartBudget.Default());
        if (budget.GaveUp)
        {
            return;
        }
        if (!budget.OnCrash(time.GetUtcNow()))
        {
            membership.Health.RecordSupervision(id, budget.Restarts, gaveUp: true);
            LogGaveUp(logger, id, budget.MaxCrashes, budget.Period.TotalSeconds);
            return;
        }
        membership.Health.RecordSupervision(id, budget.Restarts, gaveUp: false);
        LogRestarting(logger, id, -1, budget.Restarts, budget.Backoff.TotalSeconds);
        await Task.Delay(budget.Backoff, time, cancellationToken);
        try
        {
            await LaunchAsync(id, cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or System.ComponentModel.Win32Exception)
        {
            LogRestartFailed(logger, id, ex.Message);
        }
    }

    /// <summary>Stops a node this coordinator started (SIGTERM, then SIGKILL after a grace period); nothing for others.</summary>
    public async Task StopAsync(string id)
    {
        if (!_processes.TryRemove(id, out var process))
        {
            return;
        }
        if (!process.HasExited)
        {
            UnixSignals.Send(process.Id, UnixSignals.SigTerm);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                LogKilled(logger, id);
                process.Kill(entireProcessTree: true);
            }
        }
        process.Dispose();
    }

    /// <summary>
    /// Waits for the node's process to exit; if nobody asked it to (it is still the member's
    /// process here), starts it again unless the budget is spent, the member left the map
    /// (evicted or removed: it must not come back under that id), or the coordinator is stopping.
    /// </summary>
    private async Task SuperviseAsync(string id, Process process)
    {
        try
        {
            await process.WaitForExitAsync(_stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        if (!Supervises || _stopping.IsCancellationRequested || !_processes.TryGetValue(id, out var current) || current != process)
        {
            return;
        }
        if (!membership.Log.IsLeader)
        {
            // Only the group's leader restarts nodes (AdoptedNodes there sees this one gone).
            _processes.TryRemove(id, out _);
            return;
        }
        var budget = _budgets.GetOrAdd(id, _ => RestartBudget.Default());
        var exitCode = process.ExitCode;
        if (!budget.OnCrash(time.GetUtcNow()))
        {
            _processes.TryRemove(id, out _);
            membership.Health.RecordSupervision(id, budget.Restarts, gaveUp: true);
            LogGaveUp(logger, id, budget.MaxCrashes, budget.Period.TotalSeconds);
            return;
        }
        membership.Health.RecordSupervision(id, budget.Restarts, gaveUp: false);
        LogRestarting(logger, id, exitCode, budget.Restarts, budget.Backoff.TotalSeconds);
        try
        {
            await Task.Delay(budget.Backoff, time, _stopping.Token);
            if (membership.Map.FindMember(id) is null)
            {
                _processes.TryRemove(id, out _);
                return;
            }
            await LaunchAsync(id, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or IOException or System.ComponentModel.Win32Exception)
        {
            // The new process's own watch counts its exit against the budget.
            LogRestartFailed(logger, id, ex.Message);
        }
    }

    /// <summary>Stops watching the nodes started here without stopping them (a group member leaving them to the next leader).</summary>
    public void StopSupervising() => _stopping.Cancel();

    /// <summary>SIGTERM to every launched node, then SIGKILL to any still running after the grace period.</summary>
    public async ValueTask DisposeAsync()
    {
        // First: a node that exits now is stopping with us, not crashing.
        await _stopping.CancelAsync();
        foreach (var (_, process) in _processes)
        {
            if (!process.HasExited)
            {
                UnixSignals.Send(process.Id, UnixSignals.SigTerm);
            }
        }
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        foreach (var (id, process) in _processes)
        {
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                LogKilled(logger, id);
                process.Kill(entireProcessTree: true);
            }
            process.Dispose();
        }
        _processes.Clear();
    }

    private void Stop(string id, Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
        _processes.TryRemove(id, out _);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Launched node {Id} (pid {Pid}), data in {DataDirectory}")]
    private static partial void LogLaunched(ILogger logger, string id, int pid, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Id} exited (code {ExitCode}); restart {Restart} in {Seconds} s on its own data directory")]
    private static partial void LogRestarting(ILogger logger, string id, int exitCode, int restart, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Node {Id} exited {Crashes} times within {Seconds} s; it is left down and will be evicted like any dead node")]
    private static partial void LogGaveUp(ILogger logger, string id, int crashes, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Id} could not be restarted: {Reason}")]
    private static partial void LogRestartFailed(ILogger logger, string id, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Id} did not stop after SIGTERM; killed")]
    private static partial void LogKilled(ILogger logger, string id);

    private static bool IsWildcard(string bindAddress) =>
        System.Net.IPAddress.TryParse(bindAddress, out var address) && (address.Equals(System.Net.IPAddress.Any) || address.Equals(System.Net.IPAddress.IPv6Any));
}
