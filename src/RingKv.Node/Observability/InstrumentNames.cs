namespace RingKv.Node.Observability;

/// <summary>Every metric name in one place (Orleans' InstrumentNames habit). Exported at GET /metrics in the Prometheus format.</summary>
public static class InstrumentNames
{
    public const string MeterName = "RingKv";

    public const string Requests = "ringkv.requests";
    public const string RequestDuration = "ringkv.request.duration";
    public const string ReplicaResponses = "ringkv.replica.responses";
    public const string ReadRepairs = "ringkv.read_repairs";
    public const string InternodeMessages = "ringkv.internode.messages";
    public const string InternodeEntries = "ringkv.internode.entries";
    public const string StoredKeys = "ringkv.stored.keys";
    public const string StoredBytes = "ringkv.stored.bytes";
    public const string LogSyncs = "ringkv.wal.syncs";
    public const string ReplicaCopies = "ringkv.replica.copies";
    public const string HeartbeatAge = "ringkv.heartbeat.age";
    public const string ClusterEpoch = "ringkv.cluster.epoch";
    public const string Rejected = "ringkv.security.rejected";
    public const string ClockRefused = "ringkv.clock.refused";
    public const string ClockRefusedEntries = "ringkv.clock.refused_entries";
    public const string Tombstones = "ringkv.tombstones";
    public const string TombstonesOldestAge = "ringkv.tombstones.oldest_age";
    public const string TombstonesPurged = "ringkv.tombstones.purged";
    public const string TombstonePurgesRefused = "ringkv.tombstones.purges_refused";
    public const string StorageWritable = "ringkv.storage.writable";
    public const string StorageFree = "ringkv.storage.free";
    public const string StorageReopens = "ringkv.storage.reopens";
}
