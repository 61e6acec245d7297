using System.Numerics;
using CsCheck;
using RingKv.Core.Hashing;
using RingKv.Core.Ring;

namespace RingKv.Core.Tests.Ring;

public sealed class TokenAllocatorTests
{
    private const double BalanceBound = 1.25;
    private const int ReplicationFactor = 3;

    [Fact]
    public void BalanceBoundHoldsAsTheClusterGrowsOneNodeAtATime()
    {
        // The shared ring (seed 0) plus a few other seeds: the allocator must not depend on luck.
        for (var n = 3; n <= GrownRings.MaxNodes; n++)
        {
            AssertBalanced(GrownRings.Ring(n), $"grown to {n} nodes, seed 0");
        }
        Gen.ULong.Sample(seed =>
        {
            var allocator = new TokenAllocator(seed: seed);
            var ring = ConsistentHashRing.Empty;
            for (var n = 1; n <= GrownRings.MaxNodes; n++)
            {
                ring = allocator.AddNode(ring, "n" + n);
                if (n >= 3)
                {
                    AssertBalanced(ring, $"grown to {n} nodes, seed {seed}");
                }
            }
        }, iter: 2, threads: 1);
    }

    [Fact]
    public void BalanceBoundHoldsForEveryRingThatRemovalsCanLeave()
    {
        // Removals leave exactly the survivors' tokens, so the rings reachable from ten nodes by
        // removals are the rings of its subsets: check all 968 subsets of 3 to 10 nodes.
        var ring = GrownRings.Ring(GrownRings.MaxNodes);
        var nodes = ring.Nodes;
        for (var mask = 1; mask < 1 << nodes.Count; mask++)
        {
            if (BitOperations.PopCount((uint)mask) < 3)
            {
                continue;
            }
            var survivors = nodes.Where((_, i) => (mask & (1 << i)) != 0).ToHashSet();
            var subset = new ConsistentHashRing(ring.VirtualNodes.Where(v => survivors.Contains(v.NodeId)));
            AssertBalanced(subset, "after removing all but " + string.Join(",", survivors.Order()));
        }
    }

    [Fact]
    public void BalanceBoundHoldsAfterEveryJoinAndRemovalInAnyOrder()
    {
        // Each step adds a node (below 10) or removes one picked by the generator (above 3).
        var steps = Gen.Select(Gen.Bool, Gen.Int[0, 9]).Array[16];
        Gen.Select(Gen.ULong, steps).Sample((seed, ops) =>
        {
            var allocator = new TokenAllocator(seed: seed);
            var ring = ConsistentHashRing.Empty;
            var next = 1;
            while (ring.NodeCount < 3)
            {
                ring = allocator.AddNode(ring, "n" + next++);
            }
            var history = new List<string>();
            foreach (var (add, pick) in ops)
            {
                if ((add && ring.NodeCount < 10) || ring.NodeCount == 3)
                {
                    ring = allocator.AddNode(ring, "n" + next);
                    history.Add("+n" + next++);
                }
                else
                {
                    var victim = ring.Nodes[pick % ring.NodeCount];
                    ring = ring.WithoutNode(victim);
                    history.Add("-" + victim);
                }
                AssertBalanced(ring, $"seed {seed} after {string.Join(" ", history)}");
            }
        }, iter: 6, threads: 1);
    }

    [Fact]
    public void JoiningNodeChangesAboutOneInNPlusOneOfAllReplicaAssignments()
    {
        var gen = Gen.Int[3, GrownRings.MaxNodes - 1].Select(Gen.String[1, 30].Array[3000]);
        gen.Sample((n, keys) =>
        {
            var before = GrownRings.Ring(n);
            var after = GrownRings.Ring(n + 1);
            var newcomer = "n" + (n + 1);
            int changedKeys = 0, changedAssignments = 0;
            foreach (var key in keys)
            {
                var token = KeyToken.Of(key);
                var old = before.PreferenceList(token, ReplicationFactor);
                var now = after.PreferenceList(token, ReplicationFactor);
                var lost = old.Except(now).ToList();
                changedAssignments += lost.Count;
                if (lost.Count == 0)
                {
                    Assert.Equal(old, now);
                    continue;
                }
                changedKeys++;
                Assert.True(now.Contains(newcomer) && lost.Count == 1,
                    $"key {key} went from [{string.Join(",", old)}] to [{string.Join(",", now)}]: it must gain {newcomer} and lose exactly one replica");
            }
            // A newcomer's fair share is 1/(N+1) of the (key, replica) pairs, each changing one of a
            // key's RF replicas, so about RF/(N+1) of the keys change. Allow ±50% for sampling and balance.
            var keyShare = (double)changedKeys / keys.Length;
            var assignmentShare = (double)changedAssignments / (keys.Length * ReplicationFactor);
            var expectedKeys = (double)ReplicationFactor / (n + 1);
            var expectedAssignments = 1.0 / (n + 1);
            Assert.InRange(keyShare, expectedKeys * 0.5, expectedKeys * 1.5);
            Assert.InRange(assignmentShare, expectedAssignments * 0.5, expectedAssignments * 1.5);
        }, iter: 14, threads: 1);
    }

    [Fact]
    public void NewNodeGetsOneTokenPerBlockAndNoExistingTokenMoves()
    {
        var before = GrownRings.Ring(4);
        var tokens = new TokenAllocator().AllocateTokens(before, "n5");
        Assert.Equal(TokenAllocator.DefaultTokensPerNode, tokens.Count);
        var blockSize = (UInt128)ulong.MaxValue + 1;
        blockSize /= TokenAllocator.DefaultTokensPerNode;
        Assert.Equal(Enumerable.Range(0, tokens.Count).Select(i => (UInt128)i), tokens.Select(t => t / blockSize));
        Assert.Empty(tokens.Intersect(before.VirtualNodes.Select(v => v.Token)));
        Assert.Equal(before.VirtualNodes, before.WithNode("n5", tokens).VirtualNodes.Where(v => v.NodeId != "n5"));
    }

    [Fact]
    public void AllocationIsDeterministicForTheSameRingNodeAndSeed()
    {
        var ring = GrownRings.Ring(3);
        Assert.Equal(new TokenAllocator(seed: 9).AllocateTokens(ring, "n4"), new TokenAllocator(seed: 9).AllocateTokens(ring, "n4"));
        Assert.Equal(new TokenAllocator(seed: 9).AllocateTokens(ConsistentHashRing.Empty, "a"), new TokenAllocator(seed: 9).AllocateTokens(ConsistentHashRing.Empty, "a"));
        Assert.NotEqual(new TokenAllocator(seed: 1).AllocateTokens(ConsistentHashRing.Empty, "a"), new TokenAllocator(seed: 2).AllocateTokens(ConsistentHashRing.Empty, "a"));
    }

    [Fact]
    public void NodeAlreadyOnTheRingCannotJoinAgain()
    {
        Assert.Throws<ArgumentException>(() => new TokenAllocator().AllocateTokens(GrownRings.Ring(3), "n2"));
    }

    [Fact]
    public void SmallTokenCountsStillGiveDistinctTokensAndFullCoverage()
    {
        Gen.Select(Gen.Int[1, 6], Gen.Int[1, 8], Gen.ULong).Sample((tokensPerNode, nodes, seed) =>
        {
            var allocator = new TokenAllocator(tokensPerNode, seed);
            var ring = ConsistentHashRing.Empty;
            for (var n = 1; n <= nodes; n++)
            {
                ring = allocator.AddNode(ring, "n" + n);
            }
            Assert.Equal(nodes * tokensPerNode, ring.VirtualNodes.Count);
            Assert.Equal(1.0, ring.Nodes.Sum(ring.Ownership), 9);
        }, iter: 30);
    }

    private static void AssertBalanced(ConsistentHashRing ring, string situation)
    {
        var ratio = RingGen.BalanceRatio(ring);
        Assert.True(ratio <= BalanceBound,
            $"{situation}: largest/smallest share is {ratio:F3}, above {BalanceBound}. Shares: {RingGen.Describe(ring)}");
    }
}
