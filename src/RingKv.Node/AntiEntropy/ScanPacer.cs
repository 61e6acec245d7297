namespace RingKv.Node.AntiEntropy;

/// <summary>
/// Paces a round to a number of entries scanned per second, so anti-entropy takes a bounded share of
/// disk and CPU and foreground requests keep their latency. Credit saved while waiting on the network
/// is capped at <see cref="BurstSeconds"/>, so a slow call is never followed by an unpaced burst.
/// </summary>
/// <remarks>Not thread-safe: one round, driven by one loop, owns a pacer.</remarks>
public sealed class ScanPacer
{
    private const double BurstSeconds = 0.25;

    private readonly TimeProvider _time;
    private readonly double _ticksPerEntry;
    private readonly long _burstTicks;
    private long _freeAt;

    public ScanPacer(int entriesPerSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(entriesPerSecond, 1);
        _time = time;
        _ticksPerEntry = (double)time.TimestampFrequency / entriesPerSecond;
        _burstTicks = (long)(time.TimestampFrequency * BurstSeconds);
        _freeAt = time.GetTimestamp();
    }

    /// <summary>Accounts for <paramref name="entries"/> just scanned and waits until the rate allows more.</summary>
    public async ValueTask PaceAsync(long entries, CancellationToken cancellationToken)
    {
        if (entries <= 0)
        {
            return;
        }
        var now = _time.GetTimestamp();
        _freeAt = Math.Max(_freeAt, now - _burstTicks) + (long)(entries * _ticksPerEntry);
        if (_freeAt > now)
        {
            await Task.Delay(TimeSpan.FromSeconds((double)(_freeAt - now) / _time.TimestampFrequency), _time, cancellationToken);
        }
    }
}
