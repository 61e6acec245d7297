namespace RingKv.Node.Hosting;

/// <summary>
/// The system clock moved by a fixed offset: a node started with <c>--clock-offset</c> behaves as
/// if its machine's wall clock were that far off, which is how clock-skew tests run real processes
/// on one machine. Only wall time moves; timers and elapsed time are the system's.
/// </summary>
public sealed class ShiftedTimeProvider(TimeSpan offset) : TimeProvider
{
    public TimeSpan Offset { get; } = offset;

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;

    public override TimeZoneInfo LocalTimeZone => System.LocalTimeZone;

    public override long TimestampFrequency => System.TimestampFrequency;

    public override long GetTimestamp() => System.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        System.CreateTimer(callback, state, dueTime, period);

    /// <summary>The system clock itself when there is no offset, so normal nodes use exactly what they always did.</summary>
    public static TimeProvider For(TimeSpan offset) => offset == TimeSpan.Zero ? System : new ShiftedTimeProvider(offset);
}
