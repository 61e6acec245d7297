using CsCheck;
using Microsoft.Extensions.Time.Testing;
using RingKv.Core.Cluster;
using RingKv.Core.Membership;

namespace RingKv.Core.Tests.Membership;

public sealed class FailureDetectorTests
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Grace = new FailureDetectorOptions().EvictionGracePeriod;

    /// <summary>A harness whose detector is past its start-up warm-up, every node heartbeating.</summary>
    private static DetectorHarness WarmedUp(int nodes, FailureDetectorOptions? options = null, int replicationFactor = 3)
    {
        var harness = new DetectorHarness(nodes, options, replicationFactor);
        var verdict = harness.RunBeating(Grace + TimeSpan.FromSeconds(1), Tick, harness.Nodes.ToArray());
        Assert.False(verdict.IsWarmingUp);
        Assert.Empty(harness.Transitions);
        return harness;
    }

    [Fact]
    public void DefaultsAreThreeSecondsToSuspectTenToDeadAndOneEvictionAtATime()
    {
        var options = new FailureDetectorOptions();
        Assert.Equal(TimeSpan.FromSeconds(3), options.SuspectAfter);
        Assert.Equal(TimeSpan.FromSeconds(10), options.EvictionGracePeriod);
        Assert.Equal(1, options.MaxConcurrentEvictions);
        Assert.Equal(TimeSpan.FromSeconds(6), options.EffectivePauseThreshold);
    }

    [Fact]
    public void RefusesOptionsThatCannotWork()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new FailureDetector(new FailureDetectorOptions { SuspectAfter = TimeSpan.Zero }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FailureDetector(new FailureDetectorOptions { EvictionGracePeriod = TimeSpan.FromSeconds(3) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FailureDetector(new FailureDetectorOptions { MaxConcurrentEvictions = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FailureDetector(new FailureDetectorOptions { PauseThreshold = TimeSpan.FromSeconds(-1) }));
    }

    [Fact]
    public void SilentNodeBecomesSuspectAfterTheThresholdThenDeadAndEvictableAfterTheGracePeriod()
    {
        var harness = WarmedUp(5);
        var lastHeartbeat = harness.Now;
        var others = harness.AllBut("n3");

        harness.RunBeating(TimeSpan.FromSeconds(3), Tick, others);
        Assert.Equal(MemberState.Up, harness.States["n3"]); // exactly at the threshold: not yet late

        harness.RunBeating(Tick, Tick, others);
        var suspect = Assert.Single(harness.Transitions);
        Assert.Equal(("n3", MemberState.Up, MemberState.Suspect), (suspect.NodeId, suspect.From, suspect.To));
        Assert.Equal(lastHeartbeat + TimeSpan.FromSeconds(3.5), suspect.At);
        Assert.Contains("3.5 s", suspect.Reason);

        var verdict = harness.RunBeating(TimeSpan.FromSeconds(6.5), Tick, others);
        Assert.Equal(MemberState.Suspect, harness.States["n3"]);
        Assert.Empty(verdict.Evictable);

        verdict = harness.RunBeating(Tick, Tick, others);
        var dead = harness.Transitions[^1];
        Assert.Equal(("n3", MemberState.Suspect, MemberState.Dead), (dead.NodeId, dead.From, dead.To));
        Assert.Equal(lastHeartbeat + TimeSpan.FromSeconds(10.5), dead.At);
        Assert.Equal(["n3"], verdict.Evictable);
        Assert.False(verdict.UnderReplicated);
        Assert.Equal(4, verdict.LiveMembers);
    }

    [Fact]
    public void SuspectNodeThatReportsAgainIsUpAgain()
    {
        var harness = WarmedUp(5);
        harness.RunBeating(TimeSpan.FromSeconds(5), Tick, harness.AllBut("n2"));
        Assert.Equal(MemberState.Suspect, harness.States["n2"]);

        harness.RunBeating(Tick, Tick, harness.Nodes.ToArray());
        var back = harness.Transitions[^1];
        Assert.Equal(("n2", MemberState.Suspect, MemberState.Up), (back.NodeId, back.From, back.To));
        Assert.Contains("heartbeating again", back.Reason);
        Assert.Equal(2, harness.Transitions.Count);
    }

    [Fact]
    public void DeadNodeThatReportsBeforeItsEvictionBeginsIsUpAgainAndNotEvictable()
    {
        var harness = WarmedUp(5);
        harness.RunBeating(TimeSpan.FromSeconds(11), Tick, harness.AllBut("n4"));
        Assert.Equal(MemberState.Dead, harness.States["n4"]);

        var verdict = harness.RunBeating(Tick, Tick, harness.Nodes.ToArray());
        Assert.Equal(MemberState.Up, harness.States["n4"]);
        Assert.Empty(verdict.Evictable);
    }

    [Fact]
    public void MemberWhoseEvictionBeganIsNoLongerJudged()
    {
        var harness = WarmedUp(5);
        harness.RunBeating(TimeSpan.FromSeconds(11), Tick, harness.AllBut("n4"));
        harness.Evicting.Add("n4");
        var transitions = harness.Transitions.Count;

        var verdict = harness.RunBeating(TimeSpan.FromSeconds(2), Tick, harness.Nodes.ToArray());
        Assert.Equal(transitions, harness.Transitions.Count); // it comes back only through re-admission
        Assert.Empty(verdict.Evictable);
    }

    [Fact]
    public void NodeHeartbeatingLateButWithinTheThresholdNeverChangesState()
    {
        // n2 heartbeats after irregular gaps of up to exactly the suspect threshold; the coordinator
        // evaluates on an irregular tick of 0.1 to 1 s. Nothing may ever change state.
        var gen = Gen.Select(Gen.Int[200, 3_000].Array[20, 40], Gen.Int[100, 1_000].Array[60, 120]);
        gen.Sample((heartbeatGapsMs, tickGapsMs) =>
        {
            var harness = new DetectorHarness(3);
            var events = new List<(long AtMs, bool IsHeartbeat)>();
            long at = 0;
            foreach (var gap in heartbeatGapsMs)
            {
                events.Add((at += gap, true));
            }
            at = 0;
            foreach (var gap in tickGapsMs)
            {
                events.Add((at += gap, false));
            }
            var endMs = Math.Min(events.Where(e => e.IsHeartbeat).Max(e => e.AtMs), at);
            foreach (var (atMs, isHeartbeat) in events.Where(e => e.AtMs <= endMs).OrderBy(e => e.AtMs).ThenBy(e => e.IsHeartbeat ? 0 : 1))
            {
                harness.Time.SetUtcNow(DetectorHarness.Start.AddMilliseconds(atMs));
                if (isHeartbeat)
                {
                    harness.Beat(harness.Nodes.ToArray());
                }
                else
                {
                    _ = harness.Evaluate();
                }
            }
            Assert.Empty(harness.Transitions);
        });
    }

    [Fact]
    public void NodeLateBeyondTheThresholdIsSuspectedOnceAndUpAgainWithNothingElseChanging()
    {
        var harness = WarmedUp(5);
        harness.RunBeating(TimeSpan.FromSeconds(4), Tick, harness.AllBut("n1"));
        harness.RunBeating(TimeSpan.FromSeconds(20), Tick, harness.Nodes.ToArray());
        Assert.Equal(
            [("n1", MemberState.Up, MemberState.Suspect), ("n1", MemberState.Suspect, MemberState.Up)],
            harness.Transitions.Select(t => (t.NodeId, t.From, t.To)));
    }

    [Fact]
    public void CoordinatorPausedForTwiceTheGracePeriodBlamesNobodyForItsOwnSilence()
    {
        var harness = WarmedUp(5);
        harness.Time.Advance(2 * Grace); // SIGSTOP: neither heartbeats nor evaluations

        var resumed = harness.RunBeating(Tick, Tick, harness.Nodes.ToArray());
        Assert.True(resumed.IsWarmingUp);
        Assert.Contains("paused", resumed.WarmUpReason);
        harness.RunBeating(3 * Grace, Tick, harness.Nodes.ToArray());
        Assert.Empty(harness.Transitions);
    }

    [Fact]
    public void NodeThatDiedDuringTheCoordinatorsPauseIsJudgedOnlyAfterAGracePeriodOfFreshHeartbeats()
    {
        var harness = WarmedUp(5);
        harness.Time.Advance(2 * Grace);
        var others = harness.AllBut("n5");

        var resumedAt = harness.Now + Tick;
        var verdicts = new List<FailureDetectorVerdict>();
        for (var i = 0; i < 30; i++)
        {
            verdicts.Add(harness.RunBeating(Tick, Tick, others));
        }

        Assert.All(verdicts.TakeWhile(v => v.IsWarmingUp), v => Assert.Empty(v.Transitions));
        Assert.True(verdicts.Count(v => v.IsWarmingUp) >= (int)(Grace / Tick), "the warm-up must last a full grace period");
        Assert.All(harness.Transitions, t => Assert.Equal("n5", t.NodeId));
        var suspect = harness.Transitions.Single(t => t.To == MemberState.Suspect);
        Assert.Equal(resumedAt + Grace, suspect.At);
        var dead = harness.Transitions.Single(t => t.To == MemberState.Dead);
        Assert.Equal(resumedAt + Grace + Tick, dead.At);
        Assert.Contains(verdicts, v => v.Evictable.SequenceEqual(["n5"]));
    }

    [Fact]
    public void StartingCoordinatorJudgesNobodyUntilItHasListenedForAGracePeriod()
    {
        var harness = new DetectorHarness(5);
        var first = harness.RunBeating(Tick, Tick, harness.AllBut("n5"));
        Assert.Contains("started", first.WarmUpReason);
        Assert.True(first.IsWarmingUp);

        harness.RunBeating(Grace - Tick - Tick, Tick, harness.AllBut("n5"));
        Assert.Empty(harness.Transitions);

        var verdict = harness.RunBeating(TimeSpan.FromSeconds(1.5), Tick, harness.AllBut("n5"));
        Assert.Equal(MemberState.Dead, harness.States["n5"]);
        Assert.Equal(["n5"], verdict.Evictable);
    }

    [Fact]
    public void ClockSteppedBackwardsRestartsTheWarmUpWithoutHidingANodeThatDied()
    {
        var harness = WarmedUp(5);
        harness.Time.AdjustTime(harness.Now - TimeSpan.FromSeconds(30)); // an NTP step back

        var stepped = harness.RunBeating(Tick, Tick, harness.AllBut("n4"));
        Assert.Contains("clock went back", stepped.WarmUpReason);
        harness.RunBeating(Grace, Tick, harness.AllBut("n4"));
        Assert.Equal(MemberState.Suspect, harness.States["n4"]);
        // Without clamping its pre-step heartbeat, n4 would look alive for 30 s more.
        harness.RunBeating(Tick, Tick, harness.AllBut("n4"));
        Assert.Equal(MemberState.Dead, harness.States["n4"]);
    }

    [Fact]
    public void EvictsOneDeadNodeAtATimeLongestSilentFirst()
    {
        var harness = WarmedUp(6);
        harness.RunBeating(TimeSpan.FromSeconds(2), Tick, harness.AllBut("n5"));
        var verdict = harness.RunBeating(TimeSpan.FromSeconds(12), Tick, harness.AllBut("n5", "n6"));
        Assert.Equal(MemberState.Dead, harness.States["n5"]);
        Assert.Equal(MemberState.Dead, harness.States["n6"]);
        Assert.Equal(["n5"], verdict.Evictable);

        harness.Evicting.Add("n5");
        verdict = harness.RunBeating(Tick, Tick, harness.AllBut("n5", "n6"));
        Assert.Empty(verdict.Evictable);

        harness.CompleteEviction("n5");
        verdict = harness.RunBeating(Tick, Tick, harness.AllBut("n6"));
        Assert.Equal(["n6"], verdict.Evictable);
    }

    [Fact]
    public void EvictsUpToTheConcurrencySetting()
    {
        var harness = WarmedUp(7, new FailureDetectorOptions { MaxConcurrentEvictions = 2 });
        var verdict = harness.RunBeating(TimeSpan.FromSeconds(11), Tick, harness.AllBut("n5", "n6", "n7"));
        Assert.Equal(2, verdict.Evictable.Count);

        harness.Evicting.Add(verdict.Evictable[0]);
        verdict = harness.RunBeating(Tick, Tick, harness.AllBut("n5", "n6", "n7"));
        var next = Assert.Single(verdict.Evictable);
        Assert.NotEqual(harness.Evicting.Single(), next);
    }

    [Fact]
    public void ThreeNodesWithReplicationFactorThreeLosingOneAreUnderReplicatedAndEvictNobody()
    {
        var harness = WarmedUp(3);
        var verdict = harness.RunBeating(TimeSpan.FromSeconds(30), Tick, harness.AllBut("n3"));
        Assert.Equal(MemberState.Dead, harness.States["n3"]);
        Assert.True(verdict.UnderReplicated);
        Assert.Equal(2, verdict.LiveMembers);
        Assert.Empty(verdict.Evictable);
    }

    [Fact]
    public void NeverEvictsWhenFewerNodesThanTheReplicationFactorAreUp()
    {
        var harness = WarmedUp(5);
        var verdict = harness.RunBeating(TimeSpan.FromSeconds(30), Tick, "n1", "n2");
        Assert.True(verdict.UnderReplicated);
        Assert.Empty(verdict.Evictable);

        // Two of five dead leaves three up: RF 3 can be restored, one eviction at a time.
        verdict = harness.RunBeating(Tick, Tick, "n1", "n2", "n3");
        Assert.False(verdict.UnderReplicated);
        Assert.Single(verdict.Evictable);
    }

    [Fact]
    public void JudgesTheMembersOfAClusterMapWithItsReplicationFactor()
    {
        var members = Enumerable.Range(1, 3)
            .Select(i => new ClusterMember("n" + i, (uint)i, $"http://n{i}", $"http://n{i}i", MemberState.Up, [(ulong)i]))
            .ToArray();
        var map = new ClusterMap(3, 3, members, 3);
        var time = new FakeTimeProvider(DetectorHarness.Start);
        var detector = new FailureDetector();
        FailureDetectorVerdict? verdict = null;
        for (var i = 0; i < 30; i++)
        {
            time.Advance(Tick);
            detector.Heartbeat("n1", time.GetUtcNow());
            detector.Heartbeat("n2", time.GetUtcNow());
            verdict = detector.Evaluate(time.GetUtcNow(), map, []);
            foreach (var t in verdict.Transitions)
            {
                map = map.WithState(t.NodeId, t.To);
            }
        }
        Assert.Equal(MemberState.Dead, map.FindMember("n3")!.State);
        Assert.True(verdict!.UnderReplicated); // RF 3 from the map, two members up
        Assert.Empty(verdict.Evictable);
    }

    [Fact]
    public void JoiningAndLeavingMembersAreNotJudged()
    {
        var harness = WarmedUp(5);
        harness.SetState("n4", MemberState.Joining);
        harness.SetState("n5", MemberState.Leaving);
        harness.RunBeating(TimeSpan.FromSeconds(30), Tick, "n1", "n2", "n3");
        Assert.Empty(harness.Transitions);
    }

    /// <summary>Per tick, whether a node heartbeats: always for most nodes, at some random rate for others.</summary>
    private static readonly Gen<bool[]> BeatPattern =
        from rate in Gen.Frequency((3, Gen.Const(1.0)), (2, Gen.Double[0, 1]))
        from pattern in Gen.Double[0, 1].Select(x => x < rate).Array[60]
        select pattern;

    [Fact]
    public void VerdictsRespectTheStateMachineAndTheEvictionRulesWhateverTheHeartbeats()
    {
        // Random members, states, heartbeat patterns, evictions in progress and coordinator pauses.
        // The harness checks each verdict: legal transitions only, none to suspect or dead while
        // warming up, evictable members dead, silent past the grace period, within the limit and
        // never when fewer than RF members are up.
        var gen =
            from nodes in Gen.Int[1, 7]
            from rf in Gen.Int[1, 4]
            from maxEvictions in Gen.Int[1, 3]
            from states in Gen.Enum<MemberState>().Array[nodes]
            from evicting in Gen.Int[1, nodes].Array[0, 2]
            from beats in BeatPattern.Array[nodes]
            from tickMs in Gen.Frequency((10, Gen.Int[100, 1_500]), (1, Gen.Int[5_000, 25_000])).Array[60]
            select (nodes, rf, maxEvictions, states, evicting, beats, tickMs);
        gen.Sample(s =>
        {
            var harness = new DetectorHarness(s.nodes, new FailureDetectorOptions { MaxConcurrentEvictions = s.maxEvictions }, s.rf);
            for (var i = 0; i < s.nodes; i++)
            {
                harness.SetState("n" + (i + 1), s.states[i]);
            }
            foreach (var e in s.evicting)
            {
                harness.Evicting.Add("n" + e);
            }
            for (var step = 0; step < s.tickMs.Length; step++)
            {
                harness.Time.Advance(TimeSpan.FromMilliseconds(s.tickMs[step]));
                var beating = Enumerable.Range(0, s.nodes).Where(i => s.beats[i][step]).Select(i => "n" + (i + 1)).ToArray();
                harness.Beat(beating);
                _ = harness.Evaluate();
                foreach (var node in beating.Where(n => !harness.Evicting.Contains(n) && s.states[int.Parse(n[1..]) - 1] is MemberState.Up or MemberState.Suspect or MemberState.Dead))
                {
                    Assert.Equal(MemberState.Up, harness.States[node]);
                }
            }
            for (var i = 0; i < s.nodes; i++)
            {
                if (s.states[i] is MemberState.Joining or MemberState.Leaving)
                {
                    Assert.Equal(s.states[i], harness.States["n" + (i + 1)]);
                }
            }
        });
    }
}
