using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RingKv.Node.Observability;

/// <summary>The instruments of a node (and of the coordinator, which shares the request path as a gateway).</summary>
public sealed class NodeMetrics : IDisposable
{
    private readonly Meter _meter = new(InstrumentNames.MeterName);
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _replicaResponses;
    private readonly Counter<long> _readRepairs;
    private readonly Counter<long> _internodeMessages;
    private readonly Counter<long> _internodeEntries;
    private readonly Counter<long> _rejected;

    public NodeMetrics()
    {
        _requests = _meter.CreateCounter<long>(InstrumentNames.Requests, description: "Client requests by operation and status code class.");
        _requestDuration = _meter.CreateHistogram<double>(InstrumentNames.RequestDuration, unit: "s", description: "Client request latency by operation.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _replicaResponses = _meter.CreateCounter<long>(InstrumentNames.ReplicaResponses, description: "Replica answers to coordinated requests: ack, error or timeout.");
        _readRepairs = _meter.CreateCounter<long>(InstrumentNames.ReadRepairs, description: "Stale replicas repaired after a read.");
        _internodeMessages = _meter.CreateCounter<long>(InstrumentNames.InternodeMessages, description: "Internode RPCs by direction and method.");
        _internodeEntries = _meter.CreateCounter<long>(InstrumentNames.InternodeEntries, description: "Entries carried by internode RPCs.");
        _rejected = _meter.CreateCounter<long>(InstrumentNames.Rejected, description: "Requests refused for lack of the cluster secret, by kind.");
    }

    public Meter Meter => _meter;

    /// <summary>Gauges read when scraped: what the engine holds and which map epoch the node has.</summary>
    public void ObserveNode(Func<Storage.EngineStats> stats, Func<long> epoch)
    {
        _meter.CreateObservableGauge(InstrumentNames.StoredKeys, () => stats().Keys, description: "Entries stored on this node, tombstones included (estimate for rocksdb).");
        _meter.CreateObservableGauge(InstrumentNames.StoredBytes, () => stats().Bytes, unit: "By", description: "Approximate bytes stored on this node.");
        _meter.CreateObservableGauge(InstrumentNames.ClusterEpoch, epoch, description: "Epoch of the cluster map this process has.");
    }

    public void Request(string operation, int status, double seconds)
    {
        var statusClass = status switch { < 300 => "2xx", < 400 => "3xx", < 500 => "4xx", _ => "5xx" };
        _requests.Add(1, new TagList { { "op", operation }, { "status", statusClass } });
        _requestDuration.Record(seconds, new KeyValuePair<string, object?>("op", operation));
    }

    public void ReplicaResponse(string operation, string outcome) =>
        _replicaResponses.Add(1, new KeyValuePair<string, object?>("op", operation), new KeyValuePair<string, object?>("outcome", outcome));

    public void ReadRepair() => _readRepairs.Add(1);

    public void Rejected(string kind) => _rejected.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void InternodeSent(string method, int entries)
    {
        _internodeMessages.Add(1, new KeyValuePair<string, object?>("direction", "sent"), new KeyValuePair<string, object?>("method", method));
        _internodeEntries.Add(entries, new KeyValuePair<string, object?>("direction", "sent"));
    }

    public void InternodeReceived(string method, int entries)
    {
        _internodeMessages.Add(1, new KeyValuePair<string, object?>("direction", "received"), new KeyValuePair<string, object?>("method", method));
        _internodeEntries.Add(entries, new KeyValuePair<string, object?>("direction", "received"));
    }

    /// <summary>Gauges of the coordinator: its map epoch and each member's heartbeat age.</summary>
    public void ObserveCoordinator(Func<long> epoch, Func<IReadOnlyDictionary<string, Api.MemberHealth>> health)
    {
        _meter.CreateObservableGauge(InstrumentNames.ClusterEpoch, epoch, description: "Epoch of the cluster map this process has.");
        _meter.CreateObservableGauge(InstrumentNames.HeartbeatAge,
            () => health().Select(pair => new Measurement<double>(pair.Value.LastHeartbeatAgeMs / 1000.0, new KeyValuePair<string, object?>("node", pair.Key))),
            unit: "s", description: "Time since each node's last heartbeat.");
    }

    public void Dispose() => _meter.Dispose();
}
