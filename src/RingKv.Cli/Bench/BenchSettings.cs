namespace RingKv.Cli.Bench;

/// <summary>One benchmark run, as the command line asked for it.</summary>
/// <param name="Concurrency">Closed-loop workers: each sends its next request when the previous one answered.</param>
/// <param name="Keys">Size of the key space; requests pick keys uniformly at random.</param>
public sealed record BenchSettings(
    Uri Url,
    string? Token,
    BenchOperation Operation,
    int Concurrency,
    TimeSpan Duration,
    int ValueSize,
    int Keys)
{
    /// <summary>Share of reads in <see cref="BenchOperation.Mixed"/>, in percent.</summary>
    public const int MixedReadPercent = 90;

    public bool NeedsPreload => Operation is BenchOperation.Get or BenchOperation.Mixed;

    public static string KeyAt(int index) => $"bench/{index:D8}";
}
