using CsCheck;
using RingKv.Core.Ring;

namespace RingKv.Core.Tests.Ring;

/// <summary>Generators and reference models for ring properties.</summary>
internal static class RingGen
{
    /// <summary>
    /// Tokens biased towards the edges of the token space and a narrow band, so wrap-around and
    /// exact-boundary cases come up often, not once in 2^64.
    /// </summary>
    public static readonly Gen<ulong> Token = Gen.Frequency(
        (4, Gen.ULong),
        (1, Gen.ULong[0, 64]),
        (1, Gen.ULong[ulong.MaxValue - 64, ulong.MaxValue]));

    /// <summary>Arbitrary rings: 1 to 60 vnodes on up to 8 nodes, tokens anywhere (not allocator-made).</summary>
    public static readonly Gen<ConsistentHashRing> AnyRing =
        Gen.Select(Token, Gen.Int[1, 8]).Array[1, 60].Select(pairs =>
            new ConsistentHashRing(pairs
                .DistinctBy(p => p.Item1)
                .Select(p => new VirtualNode(p.Item1, "n" + p.Item2))));

    /// <summary>A token that is either arbitrary or right at / next to a vnode of the ring.</summary>
    public static Gen<ulong> TokenNear(ConsistentHashRing ring) =>
        Gen.Frequency(
            (2, Token),
            (3, Gen.Int[0, ring.VirtualNodes.Count - 1].Select(Gen.Int[-1, 1], (i, delta) => unchecked(ring.VirtualNodes[i].Token + (ulong)(long)delta))));

    /// <summary>Reference model: walk the sorted vnodes clockwise from the token, one step at a time.</summary>
    public static List<string> ModelPreferenceList(ConsistentHashRing ring, ulong token, int replicationFactor)
    {
        var vnodes = ring.VirtualNodes;
        var start = 0;
        while (start < vnodes.Count && vnodes[start].Token < token)
        {
            start++;
        }
        var result = new List<string>();
        for (var step = 0; step < vnodes.Count && result.Count < replicationFactor; step++)
        {
            var node = vnodes[(start + step) % vnodes.Count].NodeId;
            if (!result.Contains(node))
            {
                result.Add(node);
            }
        }
        return result;
    }

    /// <summary>The largest node's share over the smallest's: the balance figure held to at most 1.25.</summary>
    public static double BalanceRatio(ConsistentHashRing ring)
    {
        var shares = ring.Nodes.Select(ring.Ownership).ToArray();
        return shares.Max() / shares.Min();
    }

    public static string Describe(ConsistentHashRing ring) =>
        string.Join(", ", ring.Nodes.Select(n => $"{n}={ring.Ownership(n):F4}"));
}
