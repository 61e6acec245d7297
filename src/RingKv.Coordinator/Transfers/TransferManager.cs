using System.Collections.Concurrent;
using System.Globalization;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using RingKv.Coordinator.Membership;
using RingKv.Core.Cluster;
using RingKv.Core.Transfers;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Security;
using RingKv.Node.Security.Tls;

namespace RingKv.Coordinator.Transfers;

/// <summary>
/// Runs the transfers of membership changes (riak_core's handoff, driven by the coordinator as
/// the design note's option (a) chooses): range by range, the coordinator asks the destination to
/// pull the range from its best source; the destination verifies each range end to end (digest of
/// what was sent against digest of what arrived) before the range counts as done. A source that
/// fails is replaced by the next one that holds the range; a range that no source can give fails
/// the transfer, which is reported, never silently dropped.
/// </summary>
public sealed partial class TransferManager(MembershipService membership, TimeProvider time, ClusterSecret secret, ClusterTls tls, AuditLog audit, ILogger<TransferManager> logger) : IAsyncDisposable
{
    /// <summary>Finished transfers stay listed this long, so an operator can see what happened.</summary>
    public static readonly TimeSpan KeepFinished = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, TransferStatus> _transfers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private int _sequence;

    /// <summary>Entries per second a transfer may copy (0: unlimited). Set from CoordinatorOptions.TransferRateLimit.</summary>
    public int RateLimit { get; set; } = 15_000;

    public IReadOnlyList<TransferStatus> List()
    {
        var cutoff = time.GetUtcNow() - KeepFinished;
        foreach (var (id, status) in _transfers)
        {
            if (status.FinishedAt < cutoff)
            {
                _transfers.TryRemove(id, out _);
            }
        }
        return [.. _transfers.Values.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id, StringComparer.Ordinal)];
    }

    /// <summary>Ranges not yet copied by active transfers: each lacks one of its RF copies.</summary>
    public int PendingRanges => _transfers.Values.Where(t => t.IsActive).Sum(t => t.RangesTotal - t.RangesDone);

    public bool AnyActive => _transfers.Values.Any(t => t.IsActive);

    /// <summary>Queues every transfer of a plan; they run one at a time, in order.</summary>
    public IReadOnlyList<TransferStatus> Start(TransferPlan plan, string reason, string? changeId = null)
    {
        var started = new List<TransferStatus>();
        foreach (var transfer in plan.Transfers)
        {
            var id = "t" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);
            var status = new TransferStatus(id, reason, transfer, time.GetUtcNow()) { ChangeId = changeId };
            _transfers[id] = status;
            started.Add(status);
            _ = RunAsync(status);
        }
        foreach (var unsourced in plan.Unsourced)
        {
            LogUnsourced(logger, unsourced.Destination, unsourced.Ranges.Count, reason);
        }
        return started;
    }

    public TransferStatus? Find(string id) => _transfers.GetValueOrDefault(id);

    /// <summary>
    /// Stops every transfer still running, at its next range: this coordinator no longer leads, and
    /// only the leader moves data. The new leader plans them again from the committed state.
    /// </summary>
    public void Abandon(string reason)
    {
        var abandoned = 0;
        foreach (var status in _transfers.Values.Where(t => t.IsActive))
        {
            status.RequestCancel();
            abandoned++;
        }
        if (abandoned > 0)
        {
            LogAbandoned(logger, abandoned, reason);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var (_, channel) in _channels)
        {
            channel.Dispose();
        }
    }

    private async Task RunAsync(TransferStatus status)
    {
        await _oneAtATime.WaitAsync(_stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_stopping.IsCancellationRequested)
        {
            return;
        }
        if (status.CancelRequested)
        {
            status.Finish(TransferState.Cancelled, time.GetUtcNow());
            audit.TransferCancelled(status.Id);
            _oneAtATime.Release();
            return;
        }
        try
        {
            status.Start(time.GetUtcNow());
            LogStarted(logger, status.Id, status.Transfer.Destination, status.RangesTotal, status.Reason);
            audit.TransferStarted(status.Id, status.Transfer.Destination, status.RangesTotal, status.Reason);
            foreach (var range in status.Transfer.Ranges)
            {
                if (status.CancelRequested)
                {
                    status.Finish(TransferState.Cancelled, time.GetUtcNow());
                    LogCancelled(logger, status.Id);
                    audit.TransferCancelled(status.Id);
                    return;
                }
                var error = await PullRangeAsync(status, range);
                if (error is not null)
                {
                    status.Finish(TransferState.Failed, time.GetUtcNow(), error);
                    LogFailed(logger, status.Id, error);
                    audit.TransferFailed(status.Id, error);
                    return;
                }
                // Pace the whole transfer, not just each range: ranges are small and would each
                // finish before a per-range limit could bind, leaving foreground traffic no room.
                if (RateLimit > 0 && status.StartedAt is { } started)
                {
                    var due = TimeSpan.FromSeconds((double)status.Keys / RateLimit) - (time.GetUtcNow() - started);
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, time, _stopping.Token);
                    }
                }
            }
            status.Finish(TransferState.Done, time.GetUtcNow());
            LogDone(logger, status.Id, status.Keys, status.Bytes, status.Rate(time.GetUtcNow()));
        }
        catch (Exception ex)
        {
            status.Finish(TransferState.Failed, time.GetUtcNow(), ex.Message);
            LogFailed(logger, status.Id, ex.Message);
            audit.TransferFailed(status.Id, ex.Message);
        }
        finally
        {
            _oneAtATime.Release();
        }
    }

    /// <summary>Pulls one range into the destination from the first source that can give it; null on success, else why not.</summary>
    private async Task<string?> PullRangeAsync(TransferStatus status, TransferRange range)
    {
        var errors = new List<string>();
        // A destination that is not reachable yet (just restarted) gets a few tries before the range fails.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var map = membership.Map;
            if (map.FindMember(status.Transfer.Destination) is not { } destination)
            {
                return $"destination {status.Transfer.Destination} left the cluster";
            }
            foreach (var sourceId in range.Sources)
            {
                if (map.FindMember(sourceId) is not { State: MemberState.Up } source)
                {
                    continue;
                }
                try
                {
                    var client = new Internode.InternodeClient(Channel(destination.InternodeUrl));
                    var reply = await client.PullRangeAsync(new PullRangeRequest
                    {
                        Header = new Header { Epoch = map.Epoch },
                        Start = range.Range.Start,
                        End = range.Range.End,
                        Source = source.InternodeUrl,
                        RateLimit = RateLimit,
                    }, deadline: DateTime.UtcNow.AddMinutes(5), cancellationToken: _stopping.Token);
                    if (reply.Verified)
                    {
                        status.RangeDone(sourceId, reply.Keys, reply.Bytes);
                        return null;
                    }
                    errors.Add($"{sourceId}: {reply.Error}");
                }
                catch (Grpc.Core.RpcException ex)
                {
                    errors.Add($"{sourceId} -> {destination.Id}: {ex.Status.Detail}");
                }
            }
            await Task.Delay(TimeSpan.FromSeconds(1), _stopping.Token);
        }
        return $"range {range.Range} could not be copied: {string.Join("; ", errors.TakeLast(3))}";
    }

    /// <summary>A channel to a node's internode port, carrying the cluster secret (and with TLS the coordinator's certificate); cached per URL.</summary>
    public GrpcChannel Channel(string url) =>
        _channels.GetOrAdd(url, u => GrpcChannel.ForAddress(u, new GrpcChannelOptions { HttpHandler = secret.Handler(tls.Apply(new SocketsHttpHandler())) }));

    [LoggerMessage(Level = LogLevel.Information, Message = "Transfer {Id} to {Destination} started: {Ranges} ranges ({Reason})")]
    private static partial void LogStarted(ILogger logger, string id, string destination, int ranges, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Transfer {Id} done: {Keys} keys, {Bytes} bytes, {Rate:0} keys/s")]
    private static partial void LogDone(ILogger logger, string id, long keys, long bytes, double rate);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopped {Count} transfers: {Reason}")]
    private static partial void LogAbandoned(ILogger logger, int count, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transfer {Id} cancelled")]
    private static partial void LogCancelled(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Error, Message = "Transfer {Id} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string id, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Ranges} ranges for {Destination} have no live source ({Reason}): their data is at risk until an owner returns")]
    private static partial void LogUnsourced(ILogger logger, string destination, int ranges, string reason);
}
