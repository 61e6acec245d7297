using CsCheck;
using RingKv.Core.Ring;

namespace RingKv.Core.Tests.Ring;

public sealed class ConsistentHashRingTests
{
    private static readonly Gen<(ConsistentHashRing Ring, ulong Token, int ReplicationFactor)> RingTokenRf =
        from ring in RingGen.AnyRing
        from token in RingGen.TokenNear(ring)
        from rf in Gen.Int[1, 5]
        select (ring, token, rf);

    [Fact]
    public void PreferenceListHasDistinctNodes()
    {
        RingTokenRf.Sample((ring, token, rf) =>
        {
            var list = ring.PreferenceList(token, rf);
            return list.Distinct().Count() == list.Count;
        });
    }

    [Fact]
    public void PreferenceListHasExactlyRfNodesWhenTheRingHasThatMany()
    {
        RingTokenRf.Sample((ring, token, rf) => ring.PreferenceList(token, rf).Count == Math.Min(rf, ring.NodeCount));
    }

    [Fact]
    public void PreferenceListIsTheFirstDistinctNodesClockwiseFromTheToken()
    {
        RingTokenRf.Sample((ring, token, rf) =>
            ring.PreferenceList(token, rf).SequenceEqual(RingGen.ModelPreferenceList(ring, token, rf)));
    }

    [Fact]
    public void PreferenceListOfAllocatedRingHasRfDistinctNodes()
    {
        var ring = GrownRings.Ring(5);
        RingGen.Token.Sample(token =>
        {
            var list = ring.PreferenceList(token, 3);
            return list.Count == 3 && list.Distinct().Count() == 3 && list[0] == ring.OwnerOf(token);
        });
    }

    [Fact]
    public void TokenOnAVnodeBelongsToThatVnodeAndTheNextTokenToTheNextVnode()
    {
        var ring = new ConsistentHashRing([new(100, "a"), new(200, "b"), new(300, "c")]);
        Assert.Equal("a", ring.OwnerOf(100));
        Assert.Equal("b", ring.OwnerOf(101));
        Assert.Equal("c", ring.OwnerOf(300));
        Assert.Equal("a", ring.OwnerOf(301)); // wraps
        Assert.Equal("a", ring.OwnerOf(0));
        Assert.Equal(["c", "a", "b"], ring.PreferenceList(250, 3));
        Assert.Equal(["a", "b"], ring.PreferenceList(ulong.MaxValue, 2));
    }

    [Fact]
    public void PreferenceListSkipsFurtherVnodesOfNodesAlreadyChosen()
    {
        var ring = new ConsistentHashRing([new(10, "a"), new(20, "a"), new(30, "b"), new(40, "a"), new(50, "c")]);
        Assert.Equal(["a", "b", "c"], ring.PreferenceList(5, 3));
        Assert.Equal(["b", "a", "c"], ring.PreferenceList(25, 5));
    }

    [Fact]
    public void EmptyRingHasNoReplicasAndRefusesToNameAnOwner()
    {
        Assert.Empty(ConsistentHashRing.Empty.PreferenceList(1, 3));
        Assert.Empty(ConsistentHashRing.Empty.Ranges(3));
        Assert.Throws<InvalidOperationException>(() => ConsistentHashRing.Empty.OwnerOf(1));
    }

    [Fact]
    public void SloppyPreferenceListReplacesEachUnavailablePrimaryWithTheNextAvailableNode()
    {
        var ring = new ConsistentHashRing([new(10, "a"), new(20, "b"), new(30, "c"), new(40, "d"), new(50, "e")]);
        var entries = ring.PreferenceList(5, 3, new HashSet<string> { "b" });
        Assert.Equal(
            [PreferenceListEntry.Primary("a"), PreferenceListEntry.Primary("c"), PreferenceListEntry.Fallback("d", "b")],
            entries);
    }

    [Fact]
    public void SloppyPreferenceListNeverNamesAnUnavailableNodeAndKeepsPrimariesFirst()
    {
        var gen =
            from ring in RingGen.AnyRing
            from token in RingGen.TokenNear(ring)
            from rf in Gen.Int[1, 5]
            from down in Gen.Int[1, 8].HashSet[0, 8]
            select (ring, token, rf, down.Select(n => "n" + n).ToHashSet());
        gen.Sample((ring, token, rf, down) =>
        {
            var entries = ring.PreferenceList(token, rf, down);
            var primaries = ring.PreferenceList(token, rf);
            var available = ring.Nodes.Count(n => !down.Contains(n));
            var unavailablePrimaries = primaries.Where(down.Contains).ToList();

            Assert.DoesNotContain(entries, e => down.Contains(e.NodeId));
            Assert.Equal(entries.Count, entries.Select(e => e.NodeId).Distinct().Count());
            Assert.Equal(Math.Min(Math.Min(rf, ring.NodeCount), available), entries.Count);
            // Primaries first, in preference order, then fallbacks.
            Assert.Equal(primaries.Where(n => !down.Contains(n)), entries.TakeWhile(e => !e.IsFallback).Select(e => e.NodeId));
            Assert.All(entries.SkipWhile(e => !e.IsFallback), e => Assert.True(e.IsFallback));
            // Each fallback stands in for a different unavailable primary, in order, and is no primary itself.
            var fallbacks = entries.Where(e => e.IsFallback).ToList();
            Assert.Equal(unavailablePrimaries.Take(fallbacks.Count), fallbacks.Select(e => e.StandsInFor!));
            Assert.DoesNotContain(fallbacks, e => primaries.Contains(e.NodeId));
        });
    }

    [Fact]
    public void RangesCoverTheRingOnceAndCarryTheirKeysPreferenceList()
    {
        Gen.Select(RingGen.AnyRing, Gen.Int[1, 4]).Sample((ring, rf) =>
        {
            var ranges = ring.Ranges(rf);
            Assert.Equal(ring.VirtualNodes.Count, ranges.Count);
            Assert.Equal(1.0, ranges.Sum(r => r.Range.Fraction), 9);
            for (var i = 0; i < ranges.Count; i++)
            {
                var range = ranges[i].Range;
                // Each range starts where the previous one ended.
                Assert.Equal(ranges[(i + ranges.Count - 1) % ranges.Count].Range.End, range.Start);
                Assert.Equal(ring.PreferenceList(range.End, rf), ranges[i].PreferenceList);
                Assert.Equal(ring.PreferenceList(unchecked(range.Start + 1), rf), ranges[i].PreferenceList);
            }
        });
    }

    [Fact]
    public void OwnershipIsTheShareOfTheRingANodeIsPrimaryFor()
    {
        RingGen.AnyRing.Sample(ring =>
        {
            Assert.Equal(1.0, ring.Nodes.Sum(ring.Ownership), 9);
            foreach (var node in ring.Nodes)
            {
                var primary = ring.Ranges(1).Where(r => r.PreferenceList[0] == node).Sum(r => r.Range.Fraction);
                Assert.Equal(primary, ring.Ownership(node), 9);
            }
            Assert.Equal(0.0, ring.Ownership("not-a-member"));
        });
    }

    [Fact]
    public void SingleVnodeOwnsTheWholeRing()
    {
        var ring = new ConsistentHashRing([new(7, "solo")]);
        Assert.Equal(1.0, ring.Ownership("solo"));
        Assert.True(Assert.Single(ring.Ranges(3)).Range.IsFull);
        Assert.Equal(["solo"], ring.PreferenceList(123, 3));
    }

    [Fact]
    public void RemovingANodeHandsItsArcsToTheNextVnodesAndMovesNoOtherToken()
    {
        RingGen.AnyRing.Where(r => r.NodeCount >= 2).Sample(ring =>
        {
            var removed = ring.Nodes[0];
            var after = ring.WithoutNode(removed);
            Assert.Equal(ring.VirtualNodes.Where(v => v.NodeId != removed), after.VirtualNodes);
            Assert.Empty(after.TokensOf(removed));
            Assert.Equal(ring, ring.WithoutNode("not-a-member"));
        });
    }

    [Fact]
    public void DuplicateTokensAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => new ConsistentHashRing([new(5, "a"), new(5, "b")]));
        Assert.Contains("distinct token", error.Message);
        Assert.Throws<ArgumentException>(() => new ConsistentHashRing([new(5, "")]));
        Assert.Throws<ArgumentException>(() => GrownRings.Ring(3).WithNode("n1", [1UL]));
    }

    [Fact]
    public void AddingANodeMovesKeysOnlyToTheNewNodeWhichDisplacesExactlyOneOldReplica()
    {
        // Holds for any ring and any tokens of the newcomer: the walk only gains vnodes of one node.
        var gen =
            from ring in RingGen.AnyRing
            from tokens in RingGen.Token.HashSet[1, 20]
            from rf in Gen.Int[1, 4]
            from key in Gen.String
            select (ring, tokens, rf, key);
        gen.Where((ring, tokens, _, _) => !tokens.Overlaps(ring.VirtualNodes.Select(v => v.Token)))
            .Sample((ring, tokens, rf, key) =>
            {
                var after = ring.WithNode("new", tokens);
                var token = Hashing.KeyToken.Of(key);
                var old = ring.PreferenceList(token, rf);
                var now = after.PreferenceList(token, rf);
                if (old.SequenceEqual(now))
                {
                    return true;
                }
                var lost = old.Except(now).ToList();
                return now.Contains("new") && now.Where(n => n != "new").All(old.Contains) &&
                    (old.Count == rf ? lost.Count == 1 : lost.Count == 0 && now.Count == old.Count + 1);
            });
    }
}
