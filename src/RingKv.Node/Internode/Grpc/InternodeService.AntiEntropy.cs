using Grpc.Core;
using RingKv.Core.Ring;
using RingKv.Node.AntiEntropy;
using RingKv.Node.Internode.Protocol;

namespace RingKv.Node.Internode.Grpc;

public sealed partial class InternodeService
{
    /// <summary>
    /// Anti-entropy: this replica's hash tree of a range, as leaf digests. Depth is clamped the same
    /// way the asker clamps it (<see cref="RangeTreeDepth.Clamp"/>), so the leaves line up with its tree.
    /// </summary>
    public override Task<RangeTreeReply> RangeTree(RangeTreeRequest request, ServerCallContext context)
    {
        Observe(request.Header);
        // An evicted node's replica may be stale; it must not take part in repairs.
        RequireMember();
        if (request.Depth < 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                $"Tree depth {request.Depth} is negative. Ask for 0 (one leaf) to {RangeTreeDepth.Max} ({1 << RangeTreeDepth.Max} leaves)."));
        }
        var range = new TokenRange(request.Start, request.End);
        RequireReplicaOf(range);
        var tree = LocalRangeTree.Build(engine, range, RangeTreeDepth.Clamp(range, request.Depth), context.CancellationToken);
        var reply = new RangeTreeReply { Header = Header() };
        for (var i = 0; i < tree.LeafCount; i++)
        {
            var leaf = tree.Leaf(i);
            reply.Leaves.Add(new LeafDigest { Hash = leaf.Hash, Count = leaf.Count });
        }
        metrics.InternodeReceived("range-tree", 1);
        return Task.FromResult(reply);
    }

    /// <summary>
    /// Refuses to compare a range this node does not replicate in its map: the asker's map is older,
    /// and repairing would push entries to a node that has dropped, or is about to drop, the range.
    /// The reply's epoch makes the asker fetch the newer map.
    /// </summary>
    private void RequireReplicaOf(TokenRange range)
    {
        if (view.Map is not { } map || view.SelfId is not { } self)
        {
            return;
        }
        // Anti-entropy asks for one vnode's arc at a time: every token of it has the same replicas.
        var probe = range.IsFull ? 0 : unchecked(range.Start + 1);
        if (!map.Ring.PreferenceList(probe, map.ReplicationFactor).Contains(self))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"{self} does not replicate {range} at epoch {map.Epoch}."));
        }
    }
}
