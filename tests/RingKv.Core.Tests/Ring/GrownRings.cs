using RingKv.Core.Ring;

namespace RingKv.Core.Tests.Ring;

/// <summary>
/// One cluster grown from 1 to 10 nodes with the default allocator, built once and shared: joins are
/// the expensive part of the ring tests. <c>Ring(n)</c> is the ring with nodes n1..nN.
/// </summary>
internal static class GrownRings
{
    public const int MaxNodes = 10;

    private static readonly Lazy<ConsistentHashRing[]> Rings = new(() =>
    {
        var allocator = new TokenAllocator();
        var rings = new ConsistentHashRing[MaxNodes + 1];
        rings[0] = ConsistentHashRing.Empty;
        for (var n = 1; n <= MaxNodes; n++)
        {
            rings[n] = allocator.AddNode(rings[n - 1], "n" + n);
        }
        return rings;
    });

    public static ConsistentHashRing Ring(int nodes) => Rings.Value[nodes];
}
