namespace RingKv.Storage.Hints;

/// <summary>Opens the hint store that goes with a node's storage engine.</summary>
public static class HintStore
{
    /// <summary>
    /// The durable store, in its own RocksDB database at <paramref name="directory"/>, apart from
    /// the data engine: hints are a queue (appended, read in order, deleted), not a keyspace, and
    /// keeping them apart lets them be bounded, measured and dropped without touching the data.
    /// </summary>
    public static IHintStore Open(string directory, HintStoreLimits limits, TimeProvider time) =>
        RocksDbHintStore.Open(directory, limits, time);

    /// <summary>The store for the memory engine: nothing survives the process, like the data.</summary>
    public static IHintStore InMemory(HintStoreLimits limits, TimeProvider time) => new MemoryHintStore(limits, time);
}
