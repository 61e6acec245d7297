namespace RingKv.Core.Membership;

/// <summary>
/// Settings of the coordinator's <see cref="FailureDetector"/>, with their defaults. Nodes heartbeat
/// every second (NodeOptions.HeartbeatInterval), so the defaults allow three missed heartbeats before
/// suspicion and ten before a node is declared dead.
/// </summary>
public sealed record FailureDetectorOptions
{
    /// <summary>
    /// A member silent for longer than this is <c>suspect</c>. Default 3 s. Being suspect moves no data:
    /// writes for it go to fallbacks with hints, and its first heartbeat makes it <c>up</c> again.
    /// </summary>
    public TimeSpan SuspectAfter { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// The eviction grace period: a member silent for longer than this, counted from its last
    /// heartbeat, is <c>dead</c> and may be evicted. Default 10 s. It is also the warm-up of a
    /// coordinator that starts or was paused: it judges nobody until it has listened this long.
    /// </summary>
    public TimeSpan EvictionGracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// At most this many evictions run at once. Default 1 (evictions one at a time, so two
    /// rebuilds never compete for the same surviving replicas).
    /// </summary>
    public int MaxConcurrentEvictions { get; init; } = 1;

    /// <summary>
    /// A gap longer than this between two evaluations means the coordinator itself was paused (SIGSTOP,
    /// a long GC, a VM freeze) or its clock was stepped; it then warms up again instead of blaming the
    /// nodes for heartbeats it could not receive. Default: null, meaning twice <see cref="SuspectAfter"/>
    /// (6 s with the defaults). Evaluate much more often than this (every 250 ms to 1 s).
    /// </summary>
    public TimeSpan? PauseThreshold { get; init; }

    /// <summary><see cref="PauseThreshold"/> with its default applied.</summary>
    public TimeSpan EffectivePauseThreshold => PauseThreshold ?? SuspectAfter * 2;

    /// <summary>Fails fast on settings that cannot work, saying which one to change.</summary>
    public void Validate()
    {
        if (SuspectAfter <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(SuspectAfter), SuspectAfter, "SuspectAfter must be positive; the default is 3 s.");
        }
        if (EvictionGracePeriod <= SuspectAfter)
        {
            throw new ArgumentOutOfRangeException(nameof(EvictionGracePeriod), EvictionGracePeriod,
                $"EvictionGracePeriod must be longer than SuspectAfter ({SuspectAfter.TotalSeconds} s): a node is suspect before it is dead. The default is 10 s.");
        }
        if (MaxConcurrentEvictions < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConcurrentEvictions), MaxConcurrentEvictions,
                "MaxConcurrentEvictions must be at least 1; the default is 1.");
        }
        if (EffectivePauseThreshold <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(PauseThreshold), PauseThreshold,
                "PauseThreshold must be positive; leave it unset for twice SuspectAfter.");
        }
    }
}
