namespace RingKv.Storage;

/// <param name="Keys">Entries stored, tombstones included (an estimate for rocksdb).</param>
/// <param name="Bytes">Approximate bytes of keys and values stored.</param>
public readonly record struct EngineStats(long Keys, long Bytes);
