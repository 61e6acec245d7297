using RingKv.Core.Ring;
using RingKv.Node.Hosting;
using RingKv.Node.Membership;
using RingKv.Node.Tombstones;

namespace RingKv.Node.AntiEntropy;

/// <summary>
/// What this node's anti-entropy has done, for operators (<c>GET /v1/local/anti-entropy</c>) and
/// metrics: completed rounds, totals, and the last completed exchange of every range it drives.
/// Written by the one round loop, read by any request.
/// </summary>
public sealed class AntiEntropyProgress(ClusterView view, AntiEntropyOptions options, TombstoneCensus tombstones, NodeOptions nodeOptions)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<TokenRange, AntiEntropyRangeStatus> _ranges = [];
    private AntiEntropyRound? _lastRound;
    private long _rounds;
    private DateTimeOffset? _roundStartedAt;
    private AntiEntropyTotals _totals = new(0, 0, 0, 0, 0, 0);

    public AntiEntropyRound? LastRound
    {
        get
        {
            lock (_gate)
            {
                return _lastRound;
            }
        }
    }

    public void RoundStarted(DateTimeOffset at)
    {
        lock (_gate)
        {
            _roundStartedAt = at;
        }
    }

    /// <summary>A range was compared with all its live replicas (or all that answered).</summary>
    public void RangeExchanged(TokenRange range, DateTimeOffset at, bool inSync, long scanned, long pulled, long pushed)
    {
        lock (_gate)
        {
            _ranges[range] = new AntiEntropyRangeStatus(range.ToString(), at, inSync);
            _totals = _totals with
            {
                RangesCompared = _totals.RangesCompared + 1,
                RangesOutOfSync = _totals.RangesOutOfSync + (inSync ? 0 : 1),
                EntriesScanned = _totals.EntriesScanned + scanned,
                EntriesPulled = _totals.EntriesPulled + pulled,
                EntriesPushed = _totals.EntriesPushed + pushed,
            };
        }
    }

    public void PeerFailed()
    {
        lock (_gate)
        {
            _totals = _totals with { PeerErrors = _totals.PeerErrors + 1 };
        }
    }

    /// <summary>Ends a round; ranges this node no longer drives (the ring changed) stop being reported.</summary>
    public void RoundCompleted(AntiEntropyRound round, IReadOnlySet<TokenRange> driven)
    {
        lock (_gate)
        {
            _lastRound = round;
            _rounds++;
            _roundStartedAt = null;
            foreach (var range in _ranges.Keys.Where(r => !driven.Contains(r)).ToList())
            {
                _ranges.Remove(range);
            }
        }
    }

    public AntiEntropyStatus Snapshot(bool includeRanges)
    {
        lock (_gate)
        {
            DateTimeOffset? oldest = _ranges.Count == 0 ? null : _ranges.Values.Min(r => r.LastExchangeAt);
            return new AntiEntropyStatus(
                view.SelfId,
                options.Enabled,
                options.EntriesPerSecond,
                options.PauseBetweenRounds.TotalSeconds,
                _rounds,
                _roundStartedAt,
                _lastRound,
                _totals,
                _ranges.Count,
                oldest,
                includeRanges ? [.. _ranges.Values.OrderBy(r => r.Range, StringComparer.Ordinal)] : null,
                new TombstoneStatus(tombstones.Last?.Tombstones, tombstones.OldestAgeMs, tombstones.Last?.CountedAt,
                    nodeOptions.TombstoneGrace.TotalSeconds, tombstones.Purged, tombstones.PurgesRefused, tombstones.LastRefusal));
        }
    }
}
