namespace RingKv.Core.Supervision;

/// <summary>
/// Erlang/OTP's restart intensity for one supervised process (systemd's StartLimitBurst in
/// StartLimitIntervalSec): a process that exits is started again, unless it already exited
/// <see cref="MaxCrashes"/> times within <see cref="Period"/>; then it is left down for good, so a
/// node that cannot start (a broken disk, a bad setting) does not flap forever. Pure: time is given.
/// </summary>
public sealed class RestartBudget(int maxCrashes, TimeSpan period)
{
    /// <summary>5 exits within a minute: the supervisor gives up on the fifth.</summary>
    public static RestartBudget Default() => new(5, TimeSpan.FromMinutes(1));

    private readonly Queue<DateTimeOffset> _crashes = new();

    public int MaxCrashes { get; } = maxCrashes > 0 ? maxCrashes : throw new ArgumentOutOfRangeException(nameof(maxCrashes));

    public TimeSpan Period { get; } = period > TimeSpan.Zero ? period : throw new ArgumentOutOfRangeException(nameof(period));

    /// <summary>Restarts granted so far.</summary>
    public int Restarts { get; private set; }

    /// <summary>True once the budget was spent: the process stays down.</summary>
    public bool GaveUp { get; private set; }

    /// <summary>Records an exit at <paramref name="now"/>; true if the process should be started again.</summary>
    public bool OnCrash(DateTimeOffset now)
    {
        if (GaveUp)
        {
            return false;
        }
        _crashes.Enqueue(now);
        while (_crashes.Count > 0 && now - _crashes.Peek() >= Period)
        {
            _crashes.Dequeue();
        }
        if (_crashes.Count >= MaxCrashes)
        {
            GaveUp = true;
            return false;
        }
        Restarts++;
        return true;
    }

    /// <summary>How long to wait before restart number <see cref="Restarts"/>: 0.25 s, doubling, at most 4 s, well inside the eviction grace.</summary>
    public TimeSpan Backoff => TimeSpan.FromMilliseconds(Math.Min(4000, 250 * (1 << Math.Min(4, Math.Max(0, Restarts - 1)))));
}
