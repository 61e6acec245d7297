namespace RingKv.Core.Versioning;

/// <summary>
/// A hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014): timestamps close to
/// wall time that never go backwards and are advanced by every timestamp this node receives, so a
/// write that causally follows another always gets a larger version even when wall clocks disagree.
/// </summary>
/// <remarks>
/// Lock-free: one 64-bit word updated by compare-and-swap. Upper 48 bits are Unix milliseconds,
/// lower 16 a logical counter; when the counter overflows it carries into the milliseconds, which
/// is still monotonic.
/// </remarks>
public sealed class HybridLogicalClock
{
    public const int LogicalBits = 16;

    private readonly TimeProvider _time;
    private readonly long _maxForwardDriftMs;
    private long _last;
    private long _refused;

    /// <param name="time">The wall clock (injectable for tests and skew experiments).</param>
    /// <param name="maxForwardDrift">Received timestamps further ahead of our wall clock than this are refused by <see cref="TryObserve"/>.</param>
    public HybridLogicalClock(TimeProvider time, TimeSpan maxForwardDrift)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(maxForwardDrift, TimeSpan.Zero);
        _time = time;
        _maxForwardDriftMs = (long)maxForwardDrift.TotalMilliseconds;
    }

    public HybridLogicalClock(TimeProvider time)
        : this(time, TimeSpan.FromSeconds(60))
    {
    }

    /// <summary>The bound on how far ahead of this node's wall clock a received timestamp may be.</summary>
    public TimeSpan MaxForwardDrift => TimeSpan.FromMilliseconds(_maxForwardDriftMs);

    /// <summary>Timestamps refused by <see cref="TryObserve"/> since start (a clock too far ahead somewhere).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>The newest timestamp issued or observed.</summary>
    public ulong Last => (ulong)Volatile.Read(ref _last);

    /// <summary>A new timestamp, larger than every one issued or observed before.</summary>
    public ulong Now()
    {
        var physical = PhysicalNow();
        while (true)
        {
            var last = Volatile.Read(ref _last);
            var next = Math.Max(last + 1, physical);
            if (Interlocked.CompareExchange(ref _last, next, last) == last)
            {
                return (ulong)next;
            }
        }
    }

    /// <summary>
    /// Advances the clock past a timestamp received from another node. Refuses (returns false,
    /// clock unchanged) a timestamp more than the drift bound ahead of our wall clock, so one node
    /// with a clock far in the future cannot drag every other clock, and every later version, there.
    /// </summary>
    public bool TryObserve(ulong timestamp)
    {
        var received = (long)timestamp;
        if (received < 0 || (received >> LogicalBits) - (PhysicalNow() >> LogicalBits) > _maxForwardDriftMs)
        {
            Interlocked.Increment(ref _refused);
            return false;
        }
        while (true)
        {
            var last = Volatile.Read(ref _last);
            if (received <= last || Interlocked.CompareExchange(ref _last, received, last) == last)
            {
                return true;
            }
        }
    }

    private long PhysicalNow() => _time.GetUtcNow().ToUnixTimeMilliseconds() << LogicalBits;
}
