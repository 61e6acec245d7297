using CsCheck;
using RingKv.Core.Cluster;
using RingKv.Core.Ring;
using RingKv.Core.Tests.Ring;
using RingKv.Core.Transfers;

namespace RingKv.Core.Tests.Transfers;

public sealed class TransferPlannerTests
{
    private const int Rf = 3;
    private static readonly HashSet<string> NoneDown = new(StringComparer.Ordinal);

    [Fact]
    public void AddingANodeSendsDataOnlyToItAndMovesAboutOneInNPlusOneCopies()
    {
        for (var n = Rf; n < GrownRings.MaxNodes; n++)
        {
            var current = GrownRings.Ring(n);
            var next = GrownRings.Ring(n + 1); // the allocator's join of node n+1
            var newcomer = "n" + (n + 1);
            var plan = TransferPlanner.Plan(current, next, Rf, NoneDown);

            var transfer = Assert.Single(plan.Transfers);
            Assert.Equal(newcomer, transfer.Destination);
            Assert.Empty(plan.Unsourced);
            Assert.DoesNotContain(plan.Releases, r => r.NodeId == newcomer);
            var moved = PlanModel.MovedShare(plan, Rf);
            var expected = 1.0 / (n + 1);
            Assert.True(Math.Abs(moved - expected) <= 0.05 * expected, $"{n} -> {n + 1} nodes moved {moved:F4} of the copies, expected about {expected:F4}");
            // Each copy the newcomer gains is dropped by exactly one old owner.
            Assert.Equal(transfer.Fraction, plan.Releases.Sum(r => r.Ranges.Sum(x => x.Fraction)), 9);
            PlanModel.AssertApplyingThePlanGivesTheNewOwners(plan, current, next, Rf, NoneDown);
            PlanModel.AssertMerged(transfer.Ranges);
        }
    }

    [Fact]
    public void AddingANodeToFewerThanRfNodesCopiesEverythingToItAndReleasesNothing()
    {
        var plan = TransferPlanner.Plan(GrownRings.Ring(2), GrownRings.Ring(3), Rf, NoneDown);
        var transfer = Assert.Single(plan.Transfers);
        Assert.Equal("n3", transfer.Destination);
        // Sources keep preference-list order (primary first, to spread the load), so arcs whose primary
        // differs stay apart; together they are the whole ring.
        Assert.Equal(1.0, transfer.Fraction, 9);
        Assert.All(transfer.Ranges, r => Assert.Equal(["n1", "n2"], r.Sources.Order()));
        Assert.Empty(plan.Releases);
    }

    [Fact]
    public void RemovingADeadNodeRebuildsOnlyItsCopiesOneNewOwnerEachNeverFromIt()
    {
        var gen = Gen.Int[Rf + 1, GrownRings.MaxNodes].SelectMany(n => Gen.Int[1, n].Select(k => (n, "n" + k)));
        gen.Sample((n, removed) =>
        {
            var current = GrownRings.Ring(n);
            var next = current.WithoutNode(removed);
            var down = new HashSet<string>(StringComparer.Ordinal) { removed };
            var plan = TransferPlanner.Plan(current, next, Rf, down);

            Assert.Empty(plan.Unsourced);
            Assert.DoesNotContain(plan.Transfers, t => t.Destination == removed);
            Assert.All(plan.Transfers.SelectMany(t => t.Ranges), r =>
            {
                Assert.DoesNotContain(removed, r.Sources);
                Assert.Equal(Rf - 1, r.Sources.Count); // the surviving copies
            });
            Assert.Empty(plan.Releases); // the survivors keep what they had
            var ends = PlanModel.SegmentEnds(current, next);
            var receivers = PlanModel.Receivers(plan, ends);
            for (var i = 0; i < ends.Length; i++)
            {
                var held = current.PreferenceList(ends[i], Rf).Contains(removed);
                Assert.Equal(held ? 1 : 0, receivers[i].Count);
            }
            // The removed node held RF/n of the ring, one copy in RF of it moves.
            var expected = 1.0 / n;
            var moved = PlanModel.MovedShare(plan, Rf);
            Assert.True(Math.Abs(moved - expected) <= 0.1 * expected, $"removing {removed} from {n} moved {moved:F4}, expected about {expected:F4}");
            PlanModel.AssertApplyingThePlanGivesTheNewOwners(plan, current, next, Rf, down);
        }, iter: 25);
    }

    [Fact]
    public void AnyRingChangeLeavesEveryRangeWithRfDistinctOwnersAfterThePlanIsApplied()
    {
        // Arbitrary rings (tokens anywhere, including at the edges of the token space) changed by
        // removing some vnodes and adding others, with random nodes unavailable.
        var gen =
            from current in RingGen.AnyRing
            from removed in Gen.Int[1, 8].HashSet[0, 3]
            from added in Gen.Select(RingGen.Token, Gen.Int[1, 10]).Array[0, 30]
            from rf in Gen.Int[1, 4]
            from down in Gen.Int[1, 10].HashSet[0, 3]
            select (current, removed, added, rf, down);
        gen.Sample((current, removed, added, rf, down) =>
        {
            var kept = current.VirtualNodes.Where(v => !removed.Contains(int.Parse(v.NodeId[1..])));
            var taken = kept.Select(v => v.Token).ToHashSet();
            var next = new ConsistentHashRing(kept.Concat(added.Where(a => taken.Add(a.Item1)).Select(a => new VirtualNode(a.Item1, "n" + a.Item2))));
            var unavailable = down.Select(d => "n" + d).ToHashSet(StringComparer.Ordinal);
            var plan = TransferPlanner.Plan(current, next, rf, unavailable);

            if (current.IsEmpty || next.IsEmpty)
            {
                Assert.True(plan.IsEmpty);
                return;
            }
            PlanModel.AssertApplyingThePlanGivesTheNewOwners(plan, current, next, rf, unavailable);
            Assert.All(plan.Transfers.Concat(plan.Unsourced), t => PlanModel.AssertMerged(t.Ranges));
            Assert.All(plan.Transfers.SelectMany(t => t.Ranges), r => Assert.NotEmpty(r.Sources));
            Assert.All(plan.Releases, r => Assert.True(next.Contains(r.NodeId)));
            Assert.Equal(plan.Transfers.Select(t => t.Destination).Order(StringComparer.Ordinal), plan.Transfers.Select(t => t.Destination));
        });
    }

    [Fact]
    public void SameRingPlansNothing()
    {
        var ring = GrownRings.Ring(5);
        Assert.True(TransferPlanner.Plan(ring, ring, Rf, NoneDown).IsEmpty);
        Assert.True(TransferPlanner.Plan(ConsistentHashRing.Empty, ring, Rf, NoneDown).IsEmpty);
    }

    [Fact]
    public void RangesThatTouchWithTheSameSourcesAreMergedAcrossTheTopOfTheTokenSpace()
    {
        // RF 1: d takes over (30, 10] wrapping, from a and c... only a's arc (30, 10] changes hands.
        var current = new ConsistentHashRing([new(10, "a"), new(20, "b"), new(30, "c")]);
        var next = current.WithNode("d", [5, ulong.MaxValue - 5]);
        var plan = TransferPlanner.Plan(current, next, 1, NoneDown);

        var transfer = Assert.Single(plan.Transfers);
        Assert.Equal("d", transfer.Destination);
        // (30, max-5] and (max-5, 5] are both a's, from a: one range (30, 5] across the wrap.
        var range = Assert.Single(transfer.Ranges);
        Assert.Equal(new TokenRange(30, 5), range.Range);
        Assert.Equal(["a"], range.Sources);
        var release = Assert.Single(plan.Releases);
        Assert.Equal(("a", new TokenRange(30, 5)), (release.NodeId, Assert.Single(release.Ranges)));
    }

    [Fact]
    public void RangeWhoseOldOwnersAreAllUnavailableIsReportedUnsourced()
    {
        var current = new ConsistentHashRing([new(10, "a"), new(20, "b"), new(30, "c"), new(40, "d")]);
        var next = current.WithoutNode("a");
        var down = new HashSet<string>(StringComparer.Ordinal) { "a", "b" };
        var plan = TransferPlanner.Plan(current, next, 2, down);

        // (40, 10] was on a and b, now on b and c: nobody alive can send it to c.
        var unsourced = Assert.Single(plan.Unsourced);
        Assert.Equal("c", unsourced.Destination);
        Assert.Equal(new TokenRange(40, 10), Assert.Single(unsourced.Ranges).Range);
        // (30, 40] was on d and a, now on d and b: d sends it.
        var transfer = Assert.Single(plan.Transfers);
        Assert.Equal(("b", new TokenRange(30, 40)), (transfer.Destination, transfer.Ranges.Single().Range));
        Assert.Equal(["d"], transfer.Ranges.Single().Sources);
    }

    [Fact]
    public void JoiningMemberOfAMapReceivesItsFutureRangesFromTheCurrentOwners()
    {
        var map = MapOf(GrownRings.Ring(5));
        var joiner = new ClusterMember("n6", 6, "http://n6", "http://n6i", MemberState.Joining, GrownRings.Ring(6).TokensOf("n6"));
        var plan = TransferPlanner.Plan(map.WithMember(joiner));

        Assert.Equal(TransferPlanner.Plan(GrownRings.Ring(5), GrownRings.Ring(6), Rf, NoneDown), plan, PlanComparer);
    }

    [Fact]
    public void LeavingLiveMemberIsTheLastChoiceOfSourceAndDeadMembersAreNoneAtAll()
    {
        var map = MapOf(GrownRings.Ring(6)).WithState("n3", MemberState.Leaving).WithState("n5", MemberState.Dead);
        var plan = TransferPlanner.Plan(map);

        Assert.DoesNotContain(plan.Transfers, t => t.Destination == "n3");
        foreach (var range in plan.Transfers.SelectMany(t => t.Ranges))
        {
            Assert.DoesNotContain("n5", range.Sources);
            Assert.Equal("n3", range.Sources[^1]); // every moved range was n3's; it is alive, but going
        }
        PlanModel.AssertApplyingThePlanGivesTheNewOwners(plan, map.Ring, map.FutureRing, Rf, new HashSet<string>(StringComparer.Ordinal) { "n5" });
    }

    private static ClusterMap MapOf(ConsistentHashRing ring)
    {
        var members = ring.Nodes.Select((id, i) =>
            new ClusterMember(id, (uint)(i + 1), $"http://{id}", $"http://{id}i", MemberState.Up, ring.TokensOf(id))).ToArray();
        return new ClusterMap(1, Rf, members, (uint)members.Length);
    }

    private static readonly IEqualityComparer<TransferPlan> PlanComparer = EqualityComparer<TransferPlan>.Create(
        (a, b) => Describe(a!) == Describe(b!),
        p => Describe(p).GetHashCode(StringComparison.Ordinal));

    private static string Describe(TransferPlan plan) =>
        string.Join(";", plan.Transfers.Select(t => t.Destination + ":" + string.Join(",", t.Ranges.Select(r => r.Range + "<" + string.Join("|", r.Sources)))))
        + "/" + string.Join(";", plan.Releases.Select(r => r.NodeId + ":" + string.Join(",", r.Ranges)));
}
