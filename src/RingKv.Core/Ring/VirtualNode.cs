namespace RingKv.Core.Ring;

/// <summary>
/// One point of a physical node on the ring. A node has many (see <see cref="TokenAllocator"/>), so
/// its share of the keys is the sum of many small arcs instead of one large, unevenly sized arc.
/// </summary>
public readonly record struct VirtualNode(ulong Token, string NodeId);
