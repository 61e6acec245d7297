using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using RingKv.Coordinator.Hosting;
using RingKv.Coordinator.Membership;
using RingKv.Core.Cluster;

namespace RingKv.Coordinator.Launching;

/// <summary>
/// Starts storage nodes as child processes of the coordinator (the design note: hash-table
/// servers are started by the ring server), each with its own ports and data directory, and
/// waits until it has joined. Stops them when the coordinator stops.
/// </summary>
public sealed partial class NodeLauncher(CoordinatorOptions options, MembershipService membership, ILogger<NodeLauncher> logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Process> _processes = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _launchLock = new(1, 1);
    private uint _lastLaunched;

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
            "--join", coordinatorUrl,
            "--node-name", id,
            "--bind", options.BindAddress,
            // Launched nodes run on this machine: with a wildcard bind, they are reached through loopback.
            .. (IsWildcard(options.BindAddress) ? new[] { "--advertise-host", "127.0.0.1" } : []),
            "--port", "0",
            "--internode-port", "0",
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
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a node process.");
        _processes[id] = process;
        _ = PumpAsync(process, logPath);
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

    /// <summary>SIGTERM to every launched node, then SIGKILL to any still running after the grace period.</summary>
    public async ValueTask DisposeAsync()
    {
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

    /// <summary>Copies a node's output into its log file, so the coordinator's console stays readable.</summary>
    private static async Task PumpAsync(Process process, string logPath)
    {
        await using var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        var gate = new SemaphoreSlim(1, 1);
        async Task CopyAsync(StreamReader reader)
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                await gate.WaitAsync();
                try
                {
                    await log.WriteLineAsync(line);
                }
                finally
                {
                    gate.Release();
                }
            }
        }
        try
        {
            await Task.WhenAll(CopyAsync(process.StandardOutput), CopyAsync(process.StandardError));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The process went away: nothing more to copy.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Launched node {Id} (pid {Pid}), data in {DataDirectory}")]
    private static partial void LogLaunched(ILogger logger, string id, int pid, string dataDirectory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Id} did not stop after SIGTERM; killed")]
    private static partial void LogKilled(ILogger logger, string id);

    private static bool IsWildcard(string bindAddress) =>
        System.Net.IPAddress.TryParse(bindAddress, out var address) && (address.Equals(System.Net.IPAddress.Any) || address.Equals(System.Net.IPAddress.IPv6Any));
}
