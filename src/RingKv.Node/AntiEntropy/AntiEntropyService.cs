using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RingKv.Core.AntiEntropy;
using RingKv.Core.Cluster;
using RingKv.Core.Ring;
using RingKv.Core.Versioning;
using RingKv.Node.Hosting;
using RingKv.Node.Internode;
using RingKv.Node.Membership;
using RingKv.Node.Observability;
using RingKv.Node.Tombstones;
using RingKv.Storage;

namespace RingKv.Node.AntiEntropy;

/// <summary>
/// Anti-entropy (Dynamo §4.7): round after round, compares every token range this node
/// drives with its other live replicas and exchanges the entries that differ, so replicas converge
/// after any fault without a client reading the keys. Paced by <see cref="AntiEntropyOptions"/>.
/// </summary>
/// <remarks>
/// Each range is driven by exactly one node, the first of its preference list that the map shows up,
/// so a healthy cluster compares every range once per round rather than once per replica pair. The
/// first live node rather than the first node: a range whose primary is down still has its other
/// replicas compared (a partition or an outage is when they diverge). Nodes with the same map agree
/// on the driver; during a map change two may drive a range for a round, which costs a scan, not
/// correctness: every repair is a last-writer-wins write.
/// </remarks>
public sealed partial class AntiEntropyService : BackgroundService
{
    private readonly ClusterView _view;
    private readonly AntiEntropyOptions _options;
    private readonly AntiEntropyProgress _progress;
    private readonly AntiEntropyMetrics _metrics;
    private readonly ReplicaExchange _exchange;
    private readonly IStorageEngine _engine;
    private readonly TombstonePurger _purger;
    private readonly TombstoneCensus _tombstones;
    private readonly TimeProvider _time;
    private readonly ILogger<AntiEntropyService> _logger;

    public AntiEntropyService(
        IStorageEngine engine,
        ClusterView view,
        IReplicaTransport peers,
        HybridLogicalClock clock,
        AntiEntropyOptions options,
        AntiEntropyProgress progress,
        TombstonePurger purger,
        TombstoneCensus tombstones,
        NodeMetrics metrics,
        TimeProvider time,
        ILogger<AntiEntropyService> logger)
    {
        options.Validate();
        _view = view;
        _options = options;
        _progress = progress;
        _time = time;
        _logger = logger;
        _metrics = new AntiEntropyMetrics(progress, time);
        _exchange = new ReplicaExchange(engine, peers, clock, options, metrics);
        _engine = engine;
        _purger = purger;
        _tombstones = tombstones;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }
        try
        {
            var pause = true;
            while (true)
            {
                if (pause)
                {
                    await Task.Delay(_options.PauseBetweenRounds, _time, stoppingToken);
                }
                try
                {
                    // A round cut short by a new map starts over at once, with the new ring.
                    pause = _view.Map is not { } map || _view.SelfId is not { } self || await RunRoundAsync(map, self, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested && ex is not OperationCanceledException)
                {
                    // This node's own engine refused (its disk is full, or it is being reopened
                    // after a failed sync), or something unforeseen: the round is done again after
                    // the pause. An exception escaping here would stop the host, and with it a node
                    // that still serves reads.
                    pause = true;
                    LogRoundFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: a round cut short is simply done again by the next start.
        }
    }

    /// <summary>Compares every range this node drives; false when a new map cut the round short.</summary>
    private async Task<bool> RunRoundAsync(ClusterMap map, string self, CancellationToken stoppingToken)
    {
        var startedAt = _time.GetUtcNow();
        var duration = Stopwatch.StartNew();
        _progress.RoundStarted(startedAt);
        var pacer = new ScanPacer(_options.EntriesPerSecond, _time);
        var failedPeers = new HashSet<string>(StringComparer.Ordinal);
        var driven = new HashSet<TokenRange>();
        var tally = new RoundTally();
        foreach (var replicated in map.Ring.Ranges(map.ReplicationFactor))
        {
            if (Driver(map, replicated.PreferenceList) != self)
            {
                continue;
            }
            if (_view.Map is { } current && current.Epoch != map.Epoch)
            {
                // Ranges, replicas or their states changed: a replica compared under the old map
                // may no longer hold the range (it drops what it no longer replicates).
                return false;
            }
            driven.Add(replicated.Range);
            var replicas = replicated.PreferenceList
                .Where(id => id != self && !failedPeers.Contains(id))
                .Select(map.FindMember)
                .OfType<ClusterMember>()
                .Where(member => member.State == MemberState.Up)
                .ToList();
            if (replicas.Count > 0)
            {
                // Purging needs every replica of the range compared: all RF of them, all up.
                var everyReplica = replicated.PreferenceList.Count == map.ReplicationFactor && replicas.Count == replicated.PreferenceList.Count - 1;
                await CompareRangeAsync(map, replicated.Range, replicas, everyReplica, pacer, failedPeers, tally, stoppingToken);
            }
        }
        // After the round, so the figures include what it purged.
        await _tombstones.CountAsync(_engine, pacer, stoppingToken);
        var round = new AntiEntropyRound(startedAt, _time.GetUtcNow(), Math.Round(duration.Elapsed.TotalMilliseconds, 1), driven.Count,
            tally.RangesCompared, tally.RangesOutOfSync, tally.Scanned, tally.Pulled, tally.Pushed, failedPeers.Count);
        _progress.RoundCompleted(round, driven);
        _metrics.RoundCompleted();
        // Information only when something was repaired: an in-sync cluster completes a round every
        // few seconds and must not fill the log.
        if (round.RangesOutOfSync > 0)
        {
            LogRoundRepaired(_logger, round.RangesOutOfSync, round.RangesCompared, round.EntriesPulled, round.EntriesPushed, round.DurationMs);
        }
        return true;
    }

    private async Task CompareRangeAsync(
        ClusterMap map, TokenRange range, List<ClusterMember> replicas, bool everyReplica, ScanPacer pacer, HashSet<string> failedPeers, RoundTally tally, CancellationToken stoppingToken)
    {
        MerkleTree? local = null;
        // Tombstones past the grace period, from the same scan the first tree is built from: only
        // those can be named for purging, since only those were compared with every replica.
        var cutoffMs = _purger.CutoffMs();
        List<StoredEntry>? oldTombstones = everyReplica ? [] : null;
        var comparedPeers = 0;
        var compared = false;
        var inSync = true;
        long scanned = 0;
        long pulled = 0;
        long pushed = 0;
        foreach (var peer in replicas)
        {
            try
            {
                if (local is null)
                {
                    var collect = comparedPeers == 0 ? oldTombstones : null;
                    local = _exchange.BuildLocalTree(range, stoppingToken, collect is null ? null : entry =>
                    {
                        if (entry.Deleted && entry.Version.WallMilliseconds < cutoffMs)
                        {
                            collect.Add(entry);
                        }
                    });
                    scanned += local.Root.Count;
                    await pacer.PaceAsync(local.Root.Count, stoppingToken);
                }
                var outcome = await _exchange.RunAsync(local, peer, pacer, stoppingToken);
                compared = true;
                comparedPeers++;
                inSync &= outcome.InSync;
                scanned += outcome.Scanned;
                pulled += outcome.Pulled;
                pushed += outcome.Pushed;
                if (outcome.Pulled > 0)
                {
                    // This replica changed: compare the next peer with what it holds now, or the
                    // difference just repaired would be looked for again.
                    local = null;
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested &&
                ex is ReplicaCallException or IOException or InvalidDataException)
            {
                // The peer is down or failing: leave its other ranges to the next round rather than
                // wait out a deadline for each. Logged once per peer per round.
                failedPeers.Add(peer.Id);
                _progress.PeerFailed();
                _metrics.PeerFailed();
                LogPeerFailed(_logger, peer.Id, range.ToString(), ex.Message);
            }
        }
        if (!compared)
        {
            return;
        }
        if (inSync && oldTombstones is { Count: > 0 } && comparedPeers == replicas.Count)
        {
            await _purger.PurgeEverywhereAsync(map, range, replicas, oldTombstones, stoppingToken);
        }
        tally.RangesCompared++;
        tally.RangesOutOfSync += inSync ? 0 : 1;
        tally.Scanned += scanned;
        tally.Pulled += pulled;
        tally.Pushed += pushed;
        _progress.RangeExchanged(range, _time.GetUtcNow(), inSync, scanned, pulled, pushed);
        _metrics.RangeExchanged(inSync, scanned, pulled, pushed);
    }

    /// <summary>The node that drives a range's exchanges: the first of its preference list that is up.</summary>
    private static string? Driver(ClusterMap map, IReadOnlyList<string> preferenceList) =>
        preferenceList.FirstOrDefault(id => map.FindMember(id)?.State == MemberState.Up);

    public override void Dispose()
    {
        _metrics.Dispose();
        base.Dispose();
    }

    private sealed class RoundTally
    {
        public int RangesCompared { get; set; }

        public int RangesOutOfSync { get; set; }

        public long Scanned { get; set; }

        public long Pulled { get; set; }

        public long Pushed { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Anti-entropy repaired {OutOfSync} of {Compared} ranges: {Pulled} entries pulled, {Pushed} pushed, in {DurationMs} ms")]
    private static partial void LogRoundRepaired(ILogger logger, int outOfSync, int compared, long pulled, long pushed, double durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An anti-entropy round failed; it runs again after the pause")]
    private static partial void LogRoundFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anti-entropy with {Peer} failed on {Range}; its ranges wait for the next round: {Reason}")]
    private static partial void LogPeerFailed(ILogger logger, string peer, string range, string reason);
}
