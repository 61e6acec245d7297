using Microsoft.Extensions.Time.Testing;
using RingKv.Core.Cluster;
using RingKv.Core.Membership;

namespace RingKv.Core.Tests.Membership;

/// <summary>
/// A coordinator in miniature: a fake clock, a detector, the members' states as the map would hold
/// them, and every transition applied and kept for assertions.
/// </summary>
internal sealed class DetectorHarness
{
    public static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly Dictionary<string, MemberState> _states = new(StringComparer.Ordinal);

    public DetectorHarness(int nodes, FailureDetectorOptions? options = null, int replicationFactor = 3)
    {
        Detector = new FailureDetector(options ?? new FailureDetectorOptions());
        ReplicationFactor = replicationFactor;
        for (var i = 1; i <= nodes; i++)
        {
            _states["n" + i] = MemberState.Up;
        }
    }

    public FakeTimeProvider Time { get; } = new(Start);

    public FailureDetector Detector { get; }

    public int ReplicationFactor { get; }

    public List<MemberTransition> Transitions { get; } = [];

    public HashSet<string> Evicting { get; } = new(StringComparer.Ordinal);

    public DateTimeOffset Now => Time.GetUtcNow();

    public IReadOnlyDictionary<string, MemberState> States => _states;

    public IEnumerable<string> Nodes => _states.Keys;

    public void SetState(string node, MemberState state) => _states[node] = state;

    /// <summary>The eviction finished: the node leaves the map and the detector forgets it.</summary>
    public void CompleteEviction(string node)
    {
        Assert.True(Evicting.Remove(node), $"{node} was not being evicted");
        _states.Remove(node);
        Detector.Forget(node);
    }

    public void Beat(params string[] nodes)
    {
        foreach (var node in nodes)
        {
            Detector.Heartbeat(node, Now);
        }
    }

    /// <summary>One evaluation tick: judges, checks the verdict's own invariants, applies the transitions.</summary>
    public FailureDetectorVerdict Evaluate()
    {
        var members = _states.Select(s => (s.Key, s.Value)).ToArray();
        var verdict = Detector.Evaluate(Now, members, ReplicationFactor, Evicting);
        foreach (var transition in verdict.Transitions)
        {
            Assert.Equal(_states[transition.NodeId], transition.From);
            Assert.True(IsAllowed(transition.From, transition.To), $"{transition.NodeId}: {transition.From} -> {transition.To} is not a transition of the state machine");
            Assert.False(verdict.IsWarmingUp && transition.To != MemberState.Up, $"{transition.NodeId} became {transition.To} during warm-up: {transition.Reason}");
            Assert.False(string.IsNullOrWhiteSpace(transition.Reason));
            Assert.Equal(Now, transition.At);
            _states[transition.NodeId] = transition.To;
        }
        Transitions.AddRange(verdict.Transitions);

        var live = _states.Count(s => s.Value == MemberState.Up && !Evicting.Contains(s.Key));
        Assert.Equal(live, verdict.LiveMembers);
        Assert.Equal(live < ReplicationFactor, verdict.UnderReplicated);
        Assert.True(verdict.Evictable.Count <= Math.Max(0, Detector.Options.MaxConcurrentEvictions - Evicting.Count),
            $"{verdict.Evictable.Count} evictable with {Evicting.Count} in progress and a limit of {Detector.Options.MaxConcurrentEvictions}");
        if (verdict.UnderReplicated || verdict.IsWarmingUp)
        {
            Assert.Empty(verdict.Evictable);
        }
        foreach (var node in verdict.Evictable)
        {
            Assert.Equal(MemberState.Dead, _states[node]);
            Assert.DoesNotContain(node, Evicting);
            var last = Detector.LastHeartbeat(node);
            Assert.True(last is null || Now - last > Detector.Options.EvictionGracePeriod, $"{node} evictable {Now - last} after its last heartbeat");
        }
        return verdict;
    }

    /// <summary>Advances the clock in steps, evaluating after each; <paramref name="beforeEach"/> sends heartbeats.</summary>
    public FailureDetectorVerdict Run(TimeSpan duration, TimeSpan tick, Action<DetectorHarness>? beforeEach = null)
    {
        FailureDetectorVerdict? verdict = null;
        for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += tick)
        {
            Time.Advance(tick);
            beforeEach?.Invoke(this);
            verdict = Evaluate();
        }
        return verdict ?? Evaluate();
    }

    /// <summary>Runs with every listed node heartbeating on each tick.</summary>
    public FailureDetectorVerdict RunBeating(TimeSpan duration, TimeSpan tick, params string[] beating) =>
        Run(duration, tick, h => h.Beat(beating));

    public string[] AllBut(params string[] silent) => Nodes.Except(silent).ToArray();

    private static bool IsAllowed(MemberState from, MemberState to) => (from, to) is
        (MemberState.Up, MemberState.Suspect) or
        (MemberState.Suspect, MemberState.Dead) or
        (MemberState.Suspect, MemberState.Up) or
        (MemberState.Dead, MemberState.Up);
}
