using RingKv.Core.Cluster;
using RingKv.Core.Ring;

namespace RingKv.Core.Transfers;

/// <summary>
/// Plans the data movement of a membership change (a node added, removed or evicted) by comparing
/// the preference lists of the ring before and after it (riak_core's claimant diffing the ring with
/// the future ring). Shared by eviction (re-replication) and by staged joins and decommissions.
/// </summary>
/// <remarks>
/// The token space is cut at the union of both rings' tokens. Within one such segment each ring has a
/// single preference list (ownership only changes at a vnode token), so comparing the two lists at
/// the segment's end token decides the whole segment: every node in the new list but not the old one
/// receives the segment; every node in the old list but not the new one may drop it. Nodes in both
/// lists keep their copy, which is why a change moves only the data that must move.
/// </remarks>
public static class TransferPlanner
{
    /// <summary>
    /// The plan from a map's <see cref="ClusterMap.Ring"/> to its <see cref="ClusterMap.FutureRing"/>
    /// (joining members in, leaving members out). Suspect and dead members are not used as sources
    /// unless <paramref name="unavailable"/> says otherwise.
    /// </summary>
    public static TransferPlan Plan(ClusterMap map, IReadOnlySet<string>? unavailable = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        unavailable ??= map.Members
            .Where(m => m.State is MemberState.Suspect or MemberState.Dead)
            .Select(m => m.Id)
            .ToHashSet(StringComparer.Ordinal);
        return Plan(map.Ring, map.FutureRing, map.ReplicationFactor, unavailable);
    }

    /// <summary>
    /// The plan from one ring to another. For an eviction, <paramref name="next"/> is the ring without
    /// the evicted node, and that node is in <paramref name="unavailable"/> so no range is sourced from it.
    /// </summary>
    /// <param name="unavailable">Nodes that cannot send data (suspect, dead, evicted).</param>
    public static TransferPlan Plan(ConsistentHashRing current, ConsistentHashRing next, int replicationFactor, IReadOnlySet<string> unavailable)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(next);
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        ArgumentNullException.ThrowIfNull(unavailable);
        // An empty current ring holds no data (the first node joining); an empty next ring has nowhere
        // to put it, which the caller must refuse before planning (never remove the last nodes).
        if (current.IsEmpty || next.IsEmpty)
        {
            return TransferPlan.Empty;
        }

        var tokens = current.VirtualNodes.Select(v => v.Token)
            .Concat(next.VirtualNodes.Select(v => v.Token))
            .Distinct()
            .Order()
            .ToArray();
        var gains = new Dictionary<string, List<TransferRange>>(StringComparer.Ordinal);
        var unsourced = new Dictionary<string, List<TransferRange>>(StringComparer.Ordinal);
        var losses = new Dictionary<string, List<TransferRange>>(StringComparer.Ordinal);
        for (var i = 0; i < tokens.Length; i++)
        {
            var segment = new TokenRange(tokens[i == 0 ? tokens.Length - 1 : i - 1], tokens[i]);
            var before = current.PreferenceList(tokens[i], replicationFactor);
            var after = next.PreferenceList(tokens[i], replicationFactor);
            if (before.SequenceEqual(after))
            {
                continue;
            }
            // Survivors first: a departing node may be about to stop, and survivors spread the load
            // of a decommission instead of putting it all on the leaving node.
            var sources = before
                .Where(n => !unavailable.Contains(n))
                .OrderBy(n => after.Contains(n) ? 0 : 1)
                .ToArray();
            foreach (var destination in after.Where(n => !before.Contains(n)))
            {
                Append(sources.Length > 0 ? gains : unsourced, destination, new TransferRange(segment, sources));
            }
            foreach (var loser in before.Where(n => !after.Contains(n) && next.Contains(n)))
            {
                Append(losses, loser, new TransferRange(segment, []));
            }
        }

        return new TransferPlan(
            gains.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new Transfer(g.Key, Merge(g.Value))).ToArray(),
            unsourced.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new Transfer(g.Key, Merge(g.Value))).ToArray(),
            losses.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new RangeRelease(g.Key, Merge(g.Value).Select(r => r.Range).ToArray())).ToArray());
    }

    private static void Append(Dictionary<string, List<TransferRange>> byNode, string node, TransferRange range)
    {
        if (!byNode.TryGetValue(node, out var list))
        {
            byNode[node] = list = [];
        }
        list.Add(range);
    }

    /// <summary>
    /// Joins ranges (given in ring order) that touch and have the same sources, including across the
    /// top of the token space, so a destination streams few long ranges instead of many vnode arcs.
    /// </summary>
    private static TransferRange[] Merge(List<TransferRange> ranges)
    {
        var merged = new List<TransferRange>(ranges.Count);
        foreach (var range in ranges)
        {
            if (merged.Count > 0 && Touches(merged[^1], range))
            {
                merged[^1] = merged[^1] with { Range = new TokenRange(merged[^1].Range.Start, range.Range.End) };
            }
            else
            {
                merged.Add(range);
            }
        }
        // The first segment starts at the ring's last token, where the last one ends.
        if (merged.Count > 1 && Touches(merged[^1], merged[0]))
        {
            merged[0] = merged[0] with { Range = new TokenRange(merged[^1].Range.Start, merged[0].Range.End) };
            merged.RemoveAt(merged.Count - 1);
        }
        return merged.ToArray();
    }

    private static bool Touches(TransferRange first, TransferRange second) =>
        first.Range.End == second.Range.Start && first.Sources.SequenceEqual(second.Sources);
}
