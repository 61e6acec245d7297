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
}
