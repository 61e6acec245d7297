using RingKv.Core.Ring;

namespace RingKv.Core.AntiEntropy;

/// <summary>
/// The leaves where two <see cref="MerkleTree"/>s of the same range disagree, in token order: the only
/// subranges whose entries two replicas need to exchange.
/// </summary>
/// <param name="Leaves">Indexes of the differing leaves, ascending.</param>
/// <param name="Ranges">The token subrange of each differing leaf.</param>
/// <param name="NodesCompared">How many tree nodes the comparison looked at: what a level-by-level exchange over the network costs.</param>
public sealed record MerkleTreeDiff(IReadOnlyList<int> Leaves, IReadOnlyList<TokenRange> Ranges, int NodesCompared)
{
    public bool IsInSync => Leaves.Count == 0;
}
