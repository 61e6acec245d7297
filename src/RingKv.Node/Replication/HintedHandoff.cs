using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RingKv.Core.Cluster;
using RingKv.Node.Internode;
using RingKv.Node.Membership;
using RingKv.Storage;
using RingKv.Storage.Hints;

namespace RingKv.Node.Replication;

/// <summary>
/// Hands hints off (Dynamo §4.6): once a second, for every owner this node keeps hints for, replays
/// them in arrival order when the owner is up again and deletes them once it acknowledged. Hints
/// for an owner that was evicted go to the key's current replicas instead (its ranges were rebuilt
/// elsewhere; last writer wins makes the extra write harmless).
/// </summary>
public sealed partial class HintedHandoff(
    IHintStore hints,
    IStorageEngine local,
    ClusterView view,
    IReplicaTransport peers,
    TimeProvider time,
    ILogger<HintedHandoff> logger) : BackgroundService
{
    private const int BatchSize = 256;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    hints.PurgeExpired();
                    if (view.Map is not { } map)
                    {
                        continue;
                    }
                    foreach (var owner in hints.Owners())
                    {
                        await ReplayAsync(map, owner);
                    }
                }
                catch (Exception ex) when (ex is IOException or RocksDbSharp.RocksDbException)
                {
                    // The hint store's own disk failed or is full: the next tick tries again. An
                    // exception escaping here would stop the host, and with it the node.
                    LogTickFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: hints stay on disk and are replayed after a restart.
        }
    }

    private async Task ReplayAsync(ClusterMap map, string owner)
    {
        var member = map.FindMember(owner);
        if (member is not null && member.State != MemberState.Up)
        {
            return;
        }
        var replayed = 0;
        try
        {
            while (hints.Peek(owner, BatchSize) is { Count: > 0 } batch)
            {
                if (member is not null)
                {
                    var peer = peers.For(member.InternodeUrl);
                    await Task.WhenAll(batch.Select(hint => peer.WriteAsync(hint.Entry)));
                }
                else
                {
                    await Task.WhenAll(batch.Select(hint => WriteToCurrentReplicasAsync(map, hint.Entry)));
                }
                hints.RemoveThrough(owner, batch[^1].Sequence);
                replayed += batch.Count;
            }
        }
        catch (Exception ex) when (ex is ReplicaCallException or HttpRequestException or IOException or RocksDbSharp.RocksDbException)
        {
            // The owner refused or failed (its disk may be full: StorageRefusedException there), or
            // this node's own stores failed: the hints stay and are replayed on a later tick.
            LogReplayPaused(logger, owner, ex.Message);
        }
        if (replayed > 0)
        {
            LogReplayed(logger, replayed, owner);
        }
    }

    private async Task WriteToCurrentReplicasAsync(ClusterMap map, StoredEntry entry)
    {
        foreach (var id in map.Ring.PreferenceList(entry.Token, map.ReplicationFactor))
        {
            if (id == view.SelfId)
            {
                await local.WriteAsync(entry, WritePrecondition.None);
            }
            else if (map.FindMember(id) is { State: MemberState.Up } replica)
            {
                await peers.For(replica.InternodeUrl).WriteAsync(entry);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Handed off {Count} hints to {Owner}")]
    private static partial void LogReplayed(ILogger logger, int count, string owner);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hinted handoff could not read its hint store; it tries again in a second")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hint handoff to {Owner} paused: {Reason}")]
    private static partial void LogReplayPaused(ILogger logger, string owner, string reason);
}
