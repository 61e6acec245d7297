namespace RingKv.Cli.Bench;

/// <summary>What one run measured. Latencies are in milliseconds and cover successful requests only.</summary>
public sealed record BenchResult(
    BenchSettings Settings,
    long Requests,
    long Errors,
    TimeSpan Elapsed,
    double P50Ms,
    double P90Ms,
    double P99Ms,
    double P999Ms,
    double MaxMs,
    double MeanMs,
    string? FirstError)
{
    public double Throughput => Elapsed > TimeSpan.Zero ? Requests / Elapsed.TotalSeconds : 0;
}
