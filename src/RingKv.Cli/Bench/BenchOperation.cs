namespace RingKv.Cli.Bench;

/// <summary>What each benchmark request does.</summary>
public enum BenchOperation
{
    /// <summary>Every request writes a random key.</summary>
    Put,

    /// <summary>Every request reads a random key; all keys are written first.</summary>
    Get,

    /// <summary>
    /// 90% reads, 10% writes of random keys (YCSB workload B's read-mostly shape, close to what a
    /// cache-like key-value store sees); all keys are written first.
    /// </summary>
    Mixed,

    /// <summary>
    /// Writes every key of the key space once, in order, then stops (or at the duration): loads a
    /// known number of distinct keys, e.g. to measure memory per entry or a transfer of a given size.
    /// </summary>
    Fill,
}
