using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RingKv.Core.Cluster;
using RingKv.Node.Hosting;
using RingKv.Node.Security;
using RingKv.Node.Security.Tls;
using RingKv.Storage;
using RingKv.Storage.Hints;

namespace RingKv.Node.Membership;

/// <summary>
/// A node's side of membership: asks the coordinator to admit it (a node never adds itself),
/// heartbeats every second with its figures, and keeps the newest cluster map by long-polling the
/// coordinator. While the coordinator is down the node keeps serving with the map it has and
/// retries; when the coordinator is back it carries on, or joins again if it is not known there.
/// </summary>
public sealed partial class MembershipAgent(
    NodeOptions options,
    NodeEndpoints endpoints,
    ClusterView view,
    IStorageEngine engine,
    IHintStore hints,
    QuietReport quiet,
    Tombstones.TombstoneCensus tombstones,
    IHostApplicationLifetime lifetime,
    ClusterSecret secret,
    ClusterTls tls,
    ILogger<MembershipAgent> logger) : BackgroundService
{
    private static readonly TimeSpan MapPollWait = TimeSpan.FromSeconds(25);
    private readonly HttpClient _http = new(secret.Handler(tls.Apply(new SocketsHttpHandler()))) { Timeout = TimeSpan.FromSeconds(35) };

    /// <summary>Beyond the coordinator's default suspect threshold (3 s), an unanswered beat is as good as lost.</summary>
    private const int StuckAfterTicks = 3;

    private readonly SemaphoreSlim _rejoin = new(1, 1);
    private readonly CoordinatorAddresses _coordinators = new(options.Join!);
    private int _beatFailures;
    private StorageState _storageState;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!await WaitForStartAsync(stoppingToken))
        {
            return;
        }
        await JoinAsync(stoppingToken);
        await Task.WhenAll(
            HeartbeatLoopAsync(stoppingToken),
            MapLoopAsync(stoppingToken),
            MapOnSignalLoopAsync(stoppingToken));
    }

    private async Task<bool> WaitForStartAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        try
        {
            await started.Task.WaitAsync(stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task JoinAsync(CancellationToken stoppingToken)
    {
        var attempt = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var coordinator = _coordinators.Current;
            var known = NodeIdentity.Load(options.DataDirectory);
            var request = new JoinRequest(known?.Id ?? options.NodeName, endpoints.ClientUrl, endpoints.InternodeUrl, Environment.ProcessId, endpoints.RespUrl);
            try
            {
                using var response = await _http.PostAsJsonAsync(new Uri(coordinator, "internal/v1/join"), request, ControlPlaneJsonContext.Default.JoinRequest, stoppingToken);
                if (response.IsSuccessStatusCode)
                {
                    var reply = (await response.Content.ReadFromJsonAsync(ControlPlaneJsonContext.Default.JoinReply, stoppingToken))!;
                    new NodeIdentity(reply.Id, reply.Number).Save(options.DataDirectory);
                    options.NodeId = reply.Number;
                    view.SetSelf(reply.Id);
                    LogJoined(logger, reply.Id, reply.Number, reply.Epoch);
                    await FetchMapAsync(TimeSpan.Zero, stoppingToken);
                    return;
                }
                var refusal = await response.Content.ReadAsStringAsync(stoppingToken);
                if (response.StatusCode == HttpStatusCode.Conflict && refusal.Contains(JoinReply.EvictedProblemType, StringComparison.Ordinal))
                {
                    // Evicted while away: our data may be stale or hold keys deleted since. Drop it
                    // all and come back as a new member that receives its ranges by transfer.
                    LogWiping(logger, request.Id!);
                    await engine.DeleteAllAsync();
                    NodeIdentity.Delete(options.DataDirectory);
                    options.NodeName = null;
                    continue;
                }
                if (response.StatusCode == HttpStatusCode.Conflict && refusal.Contains(JoinReply.RemovedProblemType, StringComparison.Ordinal))
                {
                    // Removed on purpose: stay out, serve nothing, and say so; an operator stops us.
                    LogRemoved(logger, request.Id!);
                    await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    return;
                }
                LogJoinRefused(logger, (int)response.StatusCode, refusal);
                if ((int)response.StatusCode >= 500)
                {
                    // A member without a leader to pass the join to: ask another.
                    _coordinators.MoveOn(coordinator);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stoppingToken.IsCancellationRequested)
            {
                if (attempt % 10 == 0)
                {
                    LogCoordinatorUnreachable(logger, coordinator, ex.Message);
                }
                _coordinators.MoveOn(coordinator);
            }
            attempt++;
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * attempt)), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.HeartbeatInterval);
        Task? pending = null;
        var pendingTicks = 0;
        while (await TickAsync(timer, stoppingToken))
        {
            // One beat at a time while the coordinator answers. A beat still unanswered after a few
            // intervals may be stuck on a connection whose packets were dropped (a partition): it
            // would wait for TCP's backed-off retransmission, many seconds after the network
            // healed, long enough for the node to be evicted. So the next beat goes beside it, on
            // a fresh connection, while the old one may still arrive (a coordinator that is only
            // slow still hears every beat).
            if (pending is { IsCompleted: false } && ++pendingTicks < StuckAfterTicks)
            {
                continue;
            }
            pendingTicks = 0;
            pending = BeatAsync(_coordinators.Current, stoppingToken);
        }
    }

    private async Task BeatAsync(Uri coordinator, CancellationToken stoppingToken)
    {
        var stats = engine.GetStats();
        var storage = engine.GetStorageStatus();
        if (storage.State != _storageState)
        {
            // Once per change, not per beat.
            if (storage.AcceptsWrites)
            {
                LogStorageBack(logger, _storageState.ToString().ToLowerInvariant());
            }
            else
            {
                LogStorageRefusing(logger, storage.StateName, storage.Reason ?? string.Empty);
            }
            _storageState = storage.State;
        }
        var beat = new HeartbeatRequest(view.SelfId!, view.Epoch, stats.Keys, stats.Bytes, PendingHints: hints.GetStats().Pending, Transfers: 0,
            Tombstones: tombstones.Last?.Tombstones, OldestTombstoneAgeMs: tombstones.OldestAgeMs,
            Storage: storage.StateName, FreeDiskBytes: storage.FreeBytes);
        try
        {
            // A member that does not answer within two beats (stopped, or cut off) is left for the next:
            // the leader must keep hearing from this node.
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            patience.CancelAfter(options.HeartbeatInterval * 2 + TimeSpan.FromSeconds(1));
            using var response = await _http.PostAsJsonAsync(new Uri(coordinator, "internal/v1/heartbeat"), beat, ControlPlaneJsonContext.Default.HeartbeatRequest, patience.Token);
            if ((int)response.StatusCode >= 500)
            {
                // No leader behind this member: the next beat goes to another.
                _coordinators.MoveOn(coordinator);
            }
            response.EnsureSuccessStatusCode();
            var reply = (await response.Content.ReadFromJsonAsync(ControlPlaneJsonContext.Default.HeartbeatReply, patience.Token))!;
            if (Interlocked.Exchange(ref _beatFailures, 0) is > 0 and var failures)
            {
                LogCoordinatorBack(logger, failures);
            }
            if (!reply.Member)
            {
                // The coordinator does not know us (it lost its map, or evicted us): ask again, once
                // even if several beats learn it at the same time.
                if (await _rejoin.WaitAsync(0, stoppingToken))
                {
                    try
                    {
                        await JoinAsync(stoppingToken);
                    }
                    finally
                    {
                        _rejoin.Release();
                    }
                }
                return;
            }
            view.ObserveEpoch(reply.Epoch);
            quiet.Record(reply.Epoch, reply.Quiet);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException && !stoppingToken.IsCancellationRequested)
        {
            if (Interlocked.Increment(ref _beatFailures) % 10 == 1)
            {
                LogCoordinatorUnreachable(logger, coordinator, ex.Message);
            }
            _coordinators.MoveOn(coordinator);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static async Task<bool> TickAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Long-polls the coordinator: an answer comes as soon as it has a newer map, so nodes learn changes promptly.</summary>
    private async Task MapLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!await FetchMapAsync(MapPollWait, stoppingToken))
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    /// <summary>A peer mentioned a newer epoch than ours: fetch now rather than wait for the long poll.</summary>
    private async Task MapOnSignalLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await view.WaitForNewerEpochAsync(TimeSpan.FromSeconds(30), stoppingToken))
                {
                    await FetchMapAsync(TimeSpan.Zero, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Returns false when the coordinator could not be asked.</summary>
    private async Task<bool> FetchMapAsync(TimeSpan wait, CancellationToken stoppingToken)
    {
        var coordinator = _coordinators.Current;
        try
        {
            var url = new Uri(coordinator, $"internal/v1/map?after={view.Epoch}&waitMs={(long)wait.TotalMilliseconds}");
            using var response = await _http.GetAsync(url, stoppingToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var map = ClusterMap.FromJson(await response.Content.ReadAsByteArrayAsync(stoppingToken));
                if (view.TryInstall(map))
                {
                    LogMapInstalled(logger, map.Epoch, map.Members.Count);
                }
            }
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !stoppingToken.IsCancellationRequested)
        {
            _coordinators.MoveOn(coordinator);
            return false;
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Storage {State}: this node refuses writes. {Reason}")]
    private static partial void LogStorageRefusing(ILogger logger, string state, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Storage ok again after being {State}: this node accepts writes")]
    private static partial void LogStorageBack(ILogger logger, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "Joined the cluster as {Id} (number {Number}) at epoch {Epoch}")]
    private static partial void LogJoined(ILogger logger, string id, uint number, long epoch);

    [LoggerMessage(Level = LogLevel.Error, Message = "This node ({Id}) was removed from the cluster; it serves nothing. Stop it.")]
    private static partial void LogRemoved(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This node was evicted as {Id}: dropping its data to join again as a new member")]
    private static partial void LogWiping(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The coordinator refused to admit this node ({Status}): {Body}")]
    private static partial void LogJoinRefused(ILogger logger, int status, string body);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coordinator {Coordinator} unreachable ({Reason}); serving with the last cluster map and retrying")]
    private static partial void LogCoordinatorUnreachable(ILogger logger, Uri coordinator, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Coordinator reachable again after {Failures} failed heartbeats")]
    private static partial void LogCoordinatorBack(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Installed cluster map epoch {Epoch} ({Members} members)")]
    private static partial void LogMapInstalled(ILogger logger, long epoch, int members);
}
