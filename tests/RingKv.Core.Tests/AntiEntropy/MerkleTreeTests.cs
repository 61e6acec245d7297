using CsCheck;
using RingKv.Core.AntiEntropy;
using RingKv.Core.Ring;

namespace RingKv.Core.Tests.AntiEntropy;

public sealed class MerkleTreeTests
{
    /// <summary>A range, a depth and one replica's entries in it, as (token, entry hash).</summary>
    private static readonly Gen<(TokenRange Range, int Depth, (ulong Token, ulong Hash)[] Entries)> TreeContents =
        from shape in EntryGen.RangeAndDepth
        from entries in Gen.Select(EntryGen.TokenIn(shape.Range), Gen.ULong).Array[0, 80]
        select (shape.Range, shape.Depth, entries);

    private static MerkleTree Build(TokenRange range, int depth, IEnumerable<(ulong Token, ulong Hash)> entries)
    {
        var tree = new MerkleTree(range, depth);
        foreach (var (token, hash) in entries)
        {
            tree.Add(token, hash);
        }
        return tree;
    }

    /// <summary>Reference model: the leaf of a token found by scanning the leaf ranges, not by <see cref="MerkleTree.LeafOf"/>.</summary>
    private static int ModelLeaf(MerkleTree tree, ulong token) =>
        Enumerable.Range(0, tree.LeafCount).Single(i => tree.LeafRange(i).Contains(token));

    [Fact]
    public void LeavesSplitTheRangeIntoEqualContiguousSubranges()
    {
        EntryGen.RangeAndDepth.Sample((range, depth) =>
        {
            var tree = new MerkleTree(range, depth);
            Assert.Equal(range.Start, tree.LeafRange(0).Start);
            Assert.Equal(range.End, tree.LeafRange(tree.LeafCount - 1).End);
            var sizes = new List<UInt128>();
            for (var i = 0; i < tree.LeafCount; i++)
            {
                var leaf = tree.LeafRange(i);
                if (i > 0)
                {
                    Assert.Equal(tree.LeafRange(i - 1).End, leaf.Start);
                }
                Assert.True(tree.LeafCount == 1 || !leaf.IsFull, $"leaf {i} of {range} at depth {depth} is empty");
                sizes.Add(leaf.Size);
            }
            Assert.Equal(range.Size, sizes.Aggregate(UInt128.Zero, (a, b) => a + b));
            Assert.True(sizes.Max() - sizes.Min() <= 1, $"leaf sizes {sizes.Min()}..{sizes.Max()}");
        });
    }

    [Fact]
    public void EveryTokenOfTheRangeBelongsToTheLeafWhoseSubrangeHoldsIt()
    {
        var gen = from shape in EntryGen.RangeAndDepth
                  from tokens in EntryGen.TokenIn(shape.Range).Array[1, 20]
                  select (shape.Range, shape.Depth, tokens);
        gen.Sample((range, depth, tokens) =>
        {
            var tree = new MerkleTree(range, depth);
            Assert.All(tokens, t => Assert.Equal(ModelLeaf(tree, t), tree.LeafOf(t)));
            // Leaf boundaries: a leaf's end is in it, the token after it in the next leaf.
            for (var i = 0; i < tree.LeafCount; i++)
            {
                Assert.Equal(i, tree.LeafOf(tree.LeafRange(i).End));
                Assert.Equal(i, tree.LeafOf(unchecked(tree.LeafRange(i).Start + 1)));
            }
        });
    }

    [Fact]
    public void RootIsTheDigestOfTheWholeRangeWhateverTheOrderOfWrites()
    {
        var gen = from contents in TreeContents
                  from shuffled in Gen.Shuffle(((ulong, ulong)[])contents.Entries.Clone())
                  select (contents, shuffled);
        gen.Sample((contents, shuffled) =>
        {
            var tree = Build(contents.Range, contents.Depth, contents.Entries);
            var flat = contents.Entries.Aggregate(RangeDigest.Empty, (d, e) => d.Add(e.Hash));
            Assert.Equal(flat, tree.Root);
            Assert.Equal(flat, Enumerable.Range(0, tree.LeafCount).Aggregate(RangeDigest.Empty, (d, i) => d.Merge(tree.Leaf(i))));
            Assert.True(tree.Diff(Build(contents.Range, contents.Depth, shuffled)).IsInSync);
        });
    }

    [Fact]
    public void DiffFindsExactlyTheLeavesWhoseEntriesDifferAndComparesOnlyDifferingSubtrees()
    {
        // Replica b starts as a copy of a, then loses some entries, gets others, and changes versions.
        var gen = from contents in TreeContents
                  from dropped in Gen.Int[0, 79].HashSet[0, 5]
                  from changed in Gen.Int[0, 79].HashSet[0, 5]
                  from extra in Gen.Select(EntryGen.TokenIn(contents.Range), Gen.ULong).Array[0, 5]
                  select (contents, dropped, changed, extra);
        gen.Sample((contents, dropped, changed, extra) =>
        {
            var (range, depth, entries) = contents;
            var a = Build(range, depth, entries);
            var b = new MerkleTree(range, depth);
            var expected = new HashSet<int>();
            for (var i = 0; i < entries.Length; i++)
            {
                var (token, hash) = entries[i];
                if (dropped.Contains(i))
                {
                    expected.Add(ModelLeaf(a, token));
                }
                else if (changed.Contains(i))
                {
                    b.Add(token, unchecked(hash + 1));
                    expected.Add(ModelLeaf(a, token));
                }
                else
                {
                    b.Add(token, hash);
                }
            }
            foreach (var (token, hash) in extra)
            {
                b.Add(token, hash);
                expected.Add(ModelLeaf(a, token));
            }

            var diff = a.Diff(b);
            Assert.Equal(expected.Order(), diff.Leaves);
            Assert.Equal(diff.Leaves.Select(a.LeafRange), diff.Ranges);
            Assert.Equal(diff.Leaves, b.Diff(a).Leaves);
            // Two children per differing inner node, plus the root: at most 2·depth nodes per differing leaf.
            Assert.True(diff.NodesCompared <= 1 + (2 * depth * diff.Leaves.Count), $"{diff.NodesCompared} nodes compared for {diff.Leaves.Count} differing leaves at depth {depth}");
            if (diff.IsInSync)
            {
                Assert.Equal(1, diff.NodesCompared);
            }
        });
    }

    [Fact]
    public void RemoveAndReplaceKeepTheTreeEqualToOneBuiltFromTheResultingEntries()
    {
        var gen = from contents in TreeContents.Where(c => c.Entries.Length > 0)
                  from operations in Gen.Select(Gen.Int[0, 79], Gen.Bool, Gen.ULong).Array[1, 20]
                  select (contents, operations);
        gen.Sample((contents, operations) =>
        {
            var (range, depth, entries) = contents;
            var current = entries.ToList();
            var tree = Build(range, depth, entries);
            foreach (var (pick, remove, newHash) in operations)
            {
                if (current.Count == 0)
                {
                    break;
                }
                var index = pick % current.Count;
                var (token, hash) = current[index];
                if (remove)
                {
                    tree.Remove(token, hash);
                    current.RemoveAt(index);
                }
                else
                {
                    tree.Replace(token, hash, newHash);
                    current[index] = (token, newHash);
                }
            }
            var rebuilt = Build(range, depth, current);
            Assert.True(tree.Diff(rebuilt).IsInSync);
            Assert.Equal(rebuilt.Root, tree.Root);
        });
    }

    [Fact]
    public void CloneIsASnapshotThatLaterWritesDoNotChange()
    {
        var tree = new MerkleTree(TokenRange.Full, 4);
        tree.Add("a"u8, 1);
        var snapshot = tree.Clone();
        tree.Add("b"u8, 2);
        Assert.Equal(1, snapshot.Root.Count);
        Assert.Equal(2, tree.Root.Count);
        Assert.False(tree.Diff(snapshot).IsInSync);
    }

    [Fact]
    public void RefusesTreesThatCannotWork()
    {
        Assert.Throws<ArgumentException>(() => new MerkleTree(new TokenRange(10, 13), 2)); // 3 tokens, 4 leaves
        Assert.Throws<ArgumentOutOfRangeException>(() => new MerkleTree(TokenRange.Full, MerkleTree.MaxDepth + 1));
        var tree = new MerkleTree(new TokenRange(100, 200), 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Add(100, 1)); // the start is exclusive
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Add(201, 1));
        Assert.Throws<ArgumentException>(() => tree.Diff(new MerkleTree(new TokenRange(100, 200), 2)));
        Assert.Throws<ArgumentException>(() => tree.Diff(new MerkleTree(new TokenRange(100, 201), 3)));
    }
}
