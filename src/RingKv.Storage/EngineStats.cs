namespace RingKv.Storage;

/// <param name="Keys">Entries stored, tombstones included (an estimate for rocksdb).</param>
/// <param name="Bytes">Approximate bytes of keys and values stored.</param>
/// <param name="LogSyncs">Syncs of the write-ahead log since the engine opened (0 for an engine without one).</param>
public readonly record struct EngineStats(long Keys, long Bytes, long LogSyncs = 0);
