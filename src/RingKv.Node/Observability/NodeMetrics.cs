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
    private readonly Counter<long> _clockRefusedEntries;
    private readonly Counter<long> _replicaCopies;

    public NodeMetrics()
    {
        _requests = _meter.CreateCounter<long>(InstrumentNames.Requests, description: "Client requests by operation and status code class.");
        _requestDuration = _meter.CreateHistogram<double>(InstrumentNames.RequestDuration, unit: "s", description: "Client request latency by operation.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _replicaResponses = _meter.CreateCounter<long>(InstrumentNames.ReplicaResponses, description: "Replica answers to coordinated requests, by outcome: ack, stale, error, timeout, backlogged (not sent: too much already waits for that peer), storage-refused (the replica's disk is full or its engine is being reopened), hinted, speculative.");
        _readRepairs = _meter.CreateCounter<long>(InstrumentNames.ReadRepairs, description: "Stale replicas repaired after a read.");
        _internodeMessages = _meter.CreateCounter<long>(InstrumentNames.InternodeMessages, description: "Internode RPCs by direction and method.");
        _internodeEntries = _meter.CreateCounter<long>(InstrumentNames.InternodeEntries, description: "Entries carried by internode RPCs.");
        _rejected = _meter.CreateCounter<long>(InstrumentNames.Rejected, description: "Requests refused for lack of the cluster secret, by kind.");
        _clockRefusedEntries = _meter.CreateCounter<long>(InstrumentNames.ClockRefusedEntries,
            description: "Entries not stored because their version is further ahead of this node's clock than --max-clock-skew, by how they arrived.");
        _replicaCopies = _meter.CreateCounter<long>(InstrumentNames.ReplicaCopies,
            description: "Entries of peers' writes this node received as their replica, by what the peer asked for: logged (answer once in the write-ahead log, sync shortly after; the peer keeps a synced copy) or synced (answer after the sync).");
    }

    public Meter Meter => _meter;

    /// <summary>Gauges read when scraped: what the engine holds and which map epoch the node has.</summary>
    public void ObserveNode(Func<Storage.EngineStats> stats, Func<long> epoch)
    {
        _meter.CreateObservableGauge(InstrumentNames.StoredKeys, () => stats().Keys, description: "Entries stored on this node, tombstones included (estimate for rocksdb).");
        _meter.CreateObservableGauge(InstrumentNames.StoredBytes, () => stats().Bytes, unit: "By", description: "Approximate bytes stored on this node.");
        _meter.CreateObservableCounter(InstrumentNames.LogSyncs, () => stats().LogSyncs, description: "Syncs of the write-ahead log to disk (rocksdb).");
        _meter.CreateObservableGauge(InstrumentNames.ClusterEpoch, epoch, description: "Epoch of the cluster map this process has.");
    }

    /// <summary>The data disk's free space and whether the store accepts writes (docs/ARCHITECTURE.md, "Storage failures").</summary>
    public void ObserveStorage(Func<Storage.StorageStatus> status)
    {
        _meter.CreateObservableGauge(InstrumentNames.StorageWritable, () => status().AcceptsWrites ? 1 : 0,
            description: "1 while this node's store accepts writes; 0 while its data disk is full (below --min-free-disk, or out of space) or its engine is being reopened after a failed write or sync.");
        _meter.CreateObservableGauge(InstrumentNames.StorageFree,
            () => status().FreeBytes is { } free ? [new Measurement<long>(free)] : Array.Empty<Measurement<long>>(),
            unit: "By", description: "Free bytes on the data disk at the last check (once a second).");
        _meter.CreateObservableCounter(InstrumentNames.StorageReopens, () => status().Reopens,
            description: "Times the storage engine was closed and opened again from its write-ahead log after a failed write or sync.");
    }

    /// <summary>Every timestamp the hybrid logical clock refused to follow (entries and message headers alike).</summary>
    public void ObserveClock(Func<long> refused) =>
        _meter.CreateObservableCounter(InstrumentNames.ClockRefused, refused,
            description: "Timestamps received from other nodes that were further ahead of this node's clock than --max-clock-skew and were not followed.");

    /// <param name="source">write (replica writes, hints, read repair), anti-entropy, transfer, or read (a replica's answer to a read this node coordinates).</param>
    public void ClockRefusedEntry(string source) => _clockRefusedEntries.Add(1, new KeyValuePair<string, object?>("source", source));

    /// <summary>Tombstones held (at the last count, after each anti-entropy round) and purged.</summary>
    public void ObserveTombstones(Tombstones.TombstoneCensus census)
    {
        _meter.CreateObservableGauge(InstrumentNames.Tombstones,
            () => census.Last is { } last ? [new Measurement<long>(last.Tombstones)] : Array.Empty<Measurement<long>>(),
            description: "Tombstones this node holds, as of its last count (after each anti-entropy round).");
        _meter.CreateObservableGauge(InstrumentNames.TombstonesOldestAge,
            () => census.OldestAgeMs is { } age ? [new Measurement<double>(age / 1000.0)] : Array.Empty<Measurement<double>>(),
            unit: "s", description: "Age of the oldest tombstone at the last count, by its version's wall time.");
        _meter.CreateObservableCounter(InstrumentNames.TombstonesPurged, () => census.Purged, description: "Tombstones purged from this node's replica.");
        _meter.CreateObservableCounter(InstrumentNames.TombstonePurgesRefused, () => census.PurgesRefused,
            description: "Purges this node refused because its own view said it was not safe (see GET /v1/local/anti-entropy).");
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

    /// <param name="acknowledged">logged or synced: when this node answered the peer (<see cref="Storage.WriteDurability"/>).</param>
    public void ReplicaCopies(string acknowledged, int entries) =>
        _replicaCopies.Add(entries, new KeyValuePair<string, object?>("acknowledged", acknowledged));

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
