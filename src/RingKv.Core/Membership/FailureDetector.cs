using System.Globalization;
using RingKv.Core.Cluster;

namespace RingKv.Core.Membership;

/// <summary>
/// The coordinator's judgement of each member from its heartbeats, as a pure state machine:
/// time only comes in as arguments, so tests drive it with a FakeTimeProvider and no sleeps.
/// <c>up</c> → <c>suspect</c> (silent longer than <see cref="FailureDetectorOptions.SuspectAfter"/>)
/// → <c>dead</c> (silent longer than <see cref="FailureDetectorOptions.EvictionGracePeriod"/>) →
/// evictable. A suspect or dead member that heartbeats again is <c>up</c> again.
/// </summary>
/// <remarks>
/// <para>
/// A fixed timeout rather than phi accrual (Hayashibara et al. 2004, as in Cassandra and Akka): nodes
/// heartbeat on a fixed one-second interval, and operators are promised a bound ("declared dead
/// within the grace period plus a few seconds") that a timeout gives exactly, whereas phi's threshold
/// moves with each node's observed jitter and is hard to state in seconds. Flapping is prevented by
/// the distance between the thresholds (three missed heartbeats before suspicion; suspicion itself
/// moves no data) and by judging only silence the coordinator was awake to observe.
/// </para>
/// <para>
/// Silence is counted from the later of the member's last heartbeat and the end of the detector's last
/// pause: a coordinator that starts, or notices it was paused (two evaluations further apart than
/// <see cref="FailureDetectorOptions.EffectivePauseThreshold"/>) or that its clock went backwards,
/// warms up for a full grace period of fresh heartbeats and makes nobody suspect or dead meanwhile
/// (the coordinator's own pauses must never cause an eviction). Wall-clock time is therefore safe
/// here: a clock step can delay a judgement but never cause one.
/// </para>
/// <para>
/// Only members that are up, suspect or dead are judged. Joining and leaving members are watched by
/// their transfers, which resume or roll back; members whose eviction has begun are no longer judged
/// either: they come back only through re-admission as new members.
/// </para>
/// <para>Thread-safe: heartbeats arrive on request threads while a timer evaluates.</para>
/// </remarks>
public sealed class FailureDetector
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, DateTimeOffset> _lastHeartbeats = new(StringComparer.Ordinal);
    private DateTimeOffset? _lastEvaluation;
    private DateTimeOffset _listeningSince;

    public FailureDetector(FailureDetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    public FailureDetector()
        : this(new FailureDetectorOptions())
    {
    }

    public FailureDetectorOptions Options { get; }

    /// <summary>Records a heartbeat. An older timestamp than one already recorded is ignored (heartbeats may be handled out of order).</summary>
    public void Heartbeat(string nodeId, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        lock (_lock)
        {
            if (!_lastHeartbeats.TryGetValue(nodeId, out var last) || now > last)
            {
                _lastHeartbeats[nodeId] = now;
            }
        }
    }

    /// <summary>
    /// Forgets every heartbeat and warms up again at the next evaluation: for a coordinator that has
    /// just become the leader, since until now heartbeats went to another member.
    /// </summary>
    public void Restart()
    {
        lock (_lock)
        {
            _lastHeartbeats.Clear();
            _lastEvaluation = null;
        }
    }

    /// <summary>Drops what is known of a member, once it is removed from the map, so a re-admitted node starts afresh.</summary>
    public void Forget(string nodeId)
    {
        lock (_lock)
        {
            _lastHeartbeats.Remove(nodeId);
        }
    }

    public DateTimeOffset? LastHeartbeat(string nodeId)
    {
        lock (_lock)
        {
            return _lastHeartbeats.TryGetValue(nodeId, out var last) ? last : null;
        }
    }

    /// <summary>Judges the members of a map; <paramref name="evicting"/> names the members whose eviction has begun.</summary>
    public FailureDetectorVerdict Evaluate(DateTimeOffset now, ClusterMap map, IReadOnlyCollection<string> evicting)
    {
        ArgumentNullException.ThrowIfNull(map);
        return Evaluate(now, map.Members.Select(m => (m.Id, m.State)).ToArray(), map.ReplicationFactor, evicting);
    }

    /// <summary>
    /// Judges every member from the heartbeats recorded so far. Call it on a steady tick (every 250 ms
    /// to 1 s); the caller applies the transitions to the map and starts the evictions it is given.
    /// </summary>
    /// <param name="now">The coordinator's current time; successive calls should not go backwards.</param>
    /// <param name="members">Every member with its state in the current map.</param>
    /// <param name="replicationFactor">Copies per key: evictions never leave fewer live members than this.</param>
    /// <param name="evicting">Members whose eviction is in progress: they count against the concurrency limit and are not judged.</param>
    public FailureDetectorVerdict Evaluate(
        DateTimeOffset now,
        IReadOnlyCollection<(string NodeId, MemberState State)> members,
        int replicationFactor,
        IReadOnlyCollection<string> evicting)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        ArgumentNullException.ThrowIfNull(evicting);
        lock (_lock)
        {
            var warmUpReason = NoticeStartOrPause(now);
            var warmUpEnds = _listeningSince + Options.EvictionGracePeriod;
            var warmingUp = now < warmUpEnds;
            var evictingSet = evicting.ToHashSet(StringComparer.Ordinal);

            var transitions = new List<MemberTransition>();
            var dead = new List<(string NodeId, TimeSpan Silence)>();
            var live = 0;
            // Ordinal order: the same inputs always give the same transitions in the same order.
            foreach (var (nodeId, state) in members.OrderBy(m => m.NodeId, StringComparer.Ordinal))
            {
                if (evictingSet.Contains(nodeId) || state is not (MemberState.Up or MemberState.Suspect or MemberState.Dead))
                {
                    continue;
                }
                var silence = SilenceOf(nodeId, now);
                var judged = Judge(nodeId, state, silence, now, warmingUp, transitions);
                if (judged == MemberState.Up)
                {
                    live++;
                }
                else if (judged == MemberState.Dead && silence > Options.EvictionGracePeriod)
                {
                    dead.Add((nodeId, silence));
                }
            }

            var underReplicated = live < replicationFactor;
            var slots = Options.MaxConcurrentEvictions - evictingSet.Count;
            IReadOnlyList<string> evictable = warmingUp || underReplicated || slots <= 0
                ? []
                : dead.OrderByDescending(d => d.Silence).ThenBy(d => d.NodeId, StringComparer.Ordinal).Take(slots).Select(d => d.NodeId).ToArray();
            return new FailureDetectorVerdict(transitions, evictable, live, underReplicated, warmingUp ? warmUpEnds : null, warmUpReason);
        }
    }

    /// <summary>
    /// Starts a warm-up when this is the first evaluation, when the previous one is too long ago (the
    /// coordinator was paused, so missing heartbeats are its own fault), or when the clock went backwards.
    /// </summary>
    private string? NoticeStartOrPause(DateTimeOffset now)
    {
        string? reason = null;
        if (_lastEvaluation is not { } last)
        {
            reason = "the failure detector started";
        }
        else if (now < last)
        {
            reason = $"the clock went back {Seconds(last - now)} s";
            // Heartbeats stamped before the step would look fresh until the clock caught up with
            // them, hiding a node that died meanwhile for as long as the step.
            foreach (var (nodeId, heartbeat) in _lastHeartbeats.ToArray())
            {
                if (heartbeat > now)
                {
                    _lastHeartbeats[nodeId] = now;
                }
            }
        }
        else if (now - last > Options.EffectivePauseThreshold)
        {
            reason = $"{Seconds(now - last)} s passed since the previous evaluation (pause threshold {Seconds(Options.EffectivePauseThreshold)} s): " +
                "the coordinator was paused or its clock jumped";
        }
        _lastEvaluation = now;
        if (reason is null)
        {
            return null;
        }
        _listeningSince = now;
        return $"{reason}; judging nobody for the next {Seconds(Options.EvictionGracePeriod)} s while fresh heartbeats arrive";
    }

    /// <summary>Silence the coordinator was awake to observe: since the last heartbeat, or since it started listening if later.</summary>
    private TimeSpan SilenceOf(string nodeId, DateTimeOffset now)
    {
        var since = _lastHeartbeats.TryGetValue(nodeId, out var heartbeat) && heartbeat > _listeningSince ? heartbeat : _listeningSince;
        return now > since ? now - since : TimeSpan.Zero;
    }

    /// <summary>Applies the state machine to one member; returns its state afterwards.</summary>
    private MemberState Judge(string nodeId, MemberState state, TimeSpan silence, DateTimeOffset now, bool warmingUp, List<MemberTransition> transitions)
    {
        var reported = silence <= Options.SuspectAfter;
        if (reported)
        {
            if (state != MemberState.Up)
            {
                transitions.Add(new(nodeId, state, MemberState.Up, now, $"heartbeating again (last heartbeat {Seconds(silence)} s ago)"));
            }
            return MemberState.Up;
        }
        if (warmingUp)
        {
            return state;
        }
        if (state == MemberState.Up)
        {
            transitions.Add(new(nodeId, MemberState.Up, MemberState.Suspect, now,
                $"no heartbeat for {Seconds(silence)} s, longer than the suspect threshold of {Seconds(Options.SuspectAfter)} s"));
            state = MemberState.Suspect;
        }
        if (state == MemberState.Suspect && silence > Options.EvictionGracePeriod)
        {
            transitions.Add(new(nodeId, MemberState.Suspect, MemberState.Dead, now,
                $"no heartbeat for {Seconds(silence)} s, past the eviction grace period of {Seconds(Options.EvictionGracePeriod)} s"));
            state = MemberState.Dead;
        }
        // A dead member that heartbeated recently but not within SuspectAfter stays dead and is not
        // evictable until it is silent past the grace period again: it earned no trust back, and it
        // is not provably gone either.
        return state;
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture);
}
