using RingKv.Core.Hashing;
using RingKv.Core.Ring;

namespace RingKv.Core.AntiEntropy;

/// <summary>
/// A fixed-depth hash tree over one token range (Merkle 1987; Dynamo §4.7; riak_core's hashtree): the
/// range is cut into 2^<see cref="Depth"/> equal subranges whose entries are summarized by leaf
/// <see cref="RangeDigest"/>s, and every inner node is the digest of its subtree. Replicas compare
/// trees from the root down and descend only where they differ (<see cref="Diff"/>), so two replicas
/// of a range that differ in k entries exchange about k leaves instead of the whole range.
/// </summary>
/// <remarks>
/// <para>
/// Inner nodes merge their children's digests (sums) instead of hashing them: a node is then exactly
/// the digest of its subrange, so the root can be compared with a <see cref="RangeDigest"/> computed
/// by a plain scan (transfer verification), and a write could update the path to the root in
/// O(depth) without rehashing anything. Anti-entropy does not keep trees up to date as writes land
/// yet: each round builds the tree of a range from a scan of it (<c>LocalRangeTree.Build</c>), paced.
/// </para>
/// <para>
/// Subranges depend only on the range and the depth, never on the data, so two replicas' trees line up
/// leaf for leaf. Leaf i holds the tokens after Start + ⌊i·size/2^depth⌋ up to Start + ⌊(i+1)·size/2^depth⌋.
/// </para>
/// <para>Not thread-safe: the node that owns it serializes updates, and compares a <see cref="Clone"/>.</para>
/// </remarks>
public sealed class MerkleTree
{
    /// <summary>2^20 leaves take 32 MB; deeper trees cost more memory than a rescan of a range would.</summary>
    public const int MaxDepth = 20;

    // Heap layout: node 0 is the root, the children of node n are 2n+1 and 2n+2, leaves come last.
    private readonly RangeDigest[] _nodes;
    private readonly UInt128 _size;

    /// <param name="range">The token range covered; at least 2^depth tokens so that no leaf is empty.</param>
    /// <param name="depth">Levels below the root: the tree has 2^depth leaves.</param>
    public MerkleTree(TokenRange range, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(depth, MaxDepth);
        if (range.Size < (UInt128)1 << depth)
        {
            throw new ArgumentException(
                $"The range {range} holds {range.Size} tokens, fewer than the {1 << depth} leaves of a depth-{depth} tree. Use a smaller depth.", nameof(range));
        }
        Range = range;
        Depth = depth;
        _size = range.Size;
        _nodes = new RangeDigest[(2 << depth) - 1];
    }

    private MerkleTree(MerkleTree source)
    {
        Range = source.Range;
        Depth = source.Depth;
        _size = source._size;
        _nodes = (RangeDigest[])source._nodes.Clone();
    }

    public TokenRange Range { get; }

    public int Depth { get; }

    public int LeafCount => 1 << Depth;

    /// <summary>The digest of the whole range.</summary>
    public RangeDigest Root => _nodes[0];

    public RangeDigest Leaf(int index) => Node(Depth, index);

    /// <summary>The digest of the index-th subtree at a level (0 is the root, <see cref="Depth"/> the leaves).</summary>
    public RangeDigest Node(int level, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, Depth);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, 1 << level);
        return _nodes[(1 << level) - 1 + index];
    }

    /// <summary>The token subrange of a leaf.</summary>
    public TokenRange LeafRange(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, LeafCount);
        return new TokenRange(TokenAt(index), TokenAt(index + 1));
    }

    /// <summary>The leaf whose subrange holds a token of the range.</summary>
    public int LeafOf(ulong token)
    {
        if (!Range.Contains(token))
        {
            throw new ArgumentOutOfRangeException(nameof(token), token, $"Token {token:x16} is outside the tree's range {Range}.");
        }
        // Offset 1..size from the range start. Leaf i holds offsets in (⌊i·size/n⌋, ⌊(i+1)·size/n⌋],
        // which is i = ⌈offset·n/size⌉ - 1.
        var offset = (UInt128)unchecked(token - Range.Start - 1) + 1;
        var leaves = (UInt128)LeafCount;
        return (int)(((offset * leaves) + _size - 1) / _size - 1);
    }

    /// <summary>Adds an entry, given by its hash (<c>RangeDigest.EntryHash</c>), at its key's token.</summary>
    public void Add(ulong token, ulong entryHash) => Update(token, new RangeDigest(entryHash, 1));

    public void Remove(ulong token, ulong entryHash) => Update(token, new RangeDigest(unchecked(0 - entryHash), -1));

    /// <summary>Replaces a key's entry by a newer version of it.</summary>
    public void Replace(ulong token, ulong oldEntryHash, ulong newEntryHash) =>
        Update(token, new RangeDigest(unchecked(newEntryHash - oldEntryHash), 0));

    /// <summary>Adds an entry given by its key, computing the token as the ring does.</summary>
    public void Add(ReadOnlySpan<byte> utf8Key, ulong entryHash) => Add(KeyToken.Of(utf8Key), entryHash);

    public MerkleTree Clone() => new(this);

    /// <summary>
    /// The leaves where this tree and another of the same range and depth differ, comparing a node's
    /// children only when the node itself differs.
    /// </summary>
    public MerkleTreeDiff Diff(MerkleTree other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Range != Range || other.Depth != Depth)
        {
            throw new ArgumentException(
                $"Only trees of the same range and depth compare: this is {Range} at depth {Depth}, the other {other.Range} at depth {other.Depth}.", nameof(other));
        }
        var leaves = new List<int>();
        var compared = 0;
        var firstLeaf = LeafCount - 1;
        // Depth-first, left child first, so leaves come out in token order.
        var pending = new Stack<int>();
        pending.Push(0);
        while (pending.Count > 0)
        {
            var node = pending.Pop();
            compared++;
            if (_nodes[node] == other._nodes[node])
            {
                continue;
            }
            if (node >= firstLeaf)
            {
                leaves.Add(node - firstLeaf);
            }
            else
            {
                pending.Push((2 * node) + 2);
                pending.Push((2 * node) + 1);
            }
        }
        return new MerkleTreeDiff(leaves, leaves.Select(LeafRange).ToArray(), compared);
    }

    /// <summary>Merges a change (a digest delta) into a leaf and every node above it.</summary>
    private void Update(ulong token, RangeDigest delta)
    {
        var node = LeafCount - 1 + LeafOf(token);
        while (true)
        {
            _nodes[node] = _nodes[node].Merge(delta);
            if (node == 0)
            {
                return;
            }
            node = (node - 1) / 2;
        }
    }

    /// <summary>The token ending leaf i-1 and starting leaf i; for i = 2^depth, the range's end.</summary>
    private ulong TokenAt(int boundary) =>
        unchecked(Range.Start + (ulong)(((UInt128)(uint)boundary * _size) >> Depth));
}
