using System.Diagnostics.Metrics;
using RingKv.Node.Observability;

namespace RingKv.Coordinator.Consensus;

/// <summary>The coordinator group's figures: its term, leader changes and how long a change takes to commit.</summary>
public sealed class CoordinatorGroupMetrics : IDisposable
{
    private readonly Meter _meter = new(InstrumentNames.MeterName);
    private readonly Counter<long> _leaderChanges;
    private readonly Histogram<double> _commit;

    public CoordinatorGroupMetrics()
    {
        _leaderChanges = _meter.CreateCounter<long>("ringkv_coordinator_leader_changes", description: "Leaders this coordinator member has seen elected.");
        _commit = _meter.CreateHistogram<double>("ringkv_coordinator_commit_duration", unit: "s", description: "Time to commit a change of the cluster map on a majority of the coordinator group.");
    }

    public void Observe(Func<long> term, Func<bool> leads)
    {
        _meter.CreateObservableGauge("ringkv_coordinator_term", term, description: "The coordinator group's Raft term as this member knows it.");
        _meter.CreateObservableGauge("ringkv_coordinator_leader", () => leads() ? 1 : 0, description: "1 while this coordinator member leads the group.");
    }

    public void LeaderChanged() => _leaderChanges.Add(1);

    public void Committed(TimeSpan elapsed) => _commit.Record(elapsed.TotalSeconds);

    public void Dispose() => _meter.Dispose();
}
