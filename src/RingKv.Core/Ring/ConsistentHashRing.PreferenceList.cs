namespace RingKv.Core.Ring;

public sealed partial class ConsistentHashRing
{
    // Every key in a vnode's arc has the same preference list, so lists are computed once per vnode
    // for the replication factor in use and shared. Built lazily; a race only builds it twice.
    private PreferenceTable? _preferenceTable;

    /// <summary>
    /// The replicas of a token: the first <paramref name="replicationFactor"/> distinct physical nodes
    /// walking clockwise from it, skipping vnodes of nodes already chosen (Dynamo §4.3), so the copies
    /// are always on different nodes. Fewer when the ring has fewer nodes. The first entry is the primary.
    /// </summary>
    public IReadOnlyList<string> PreferenceList(ulong token, int replicationFactor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        if (_tokens.Length == 0)
        {
            return [];
        }
        var table = _preferenceTable;
        if (table is null || table.ReplicationFactor != replicationFactor)
        {
            table = new PreferenceTable(replicationFactor, BuildPreferenceLists(replicationFactor));
            _preferenceTable = table;
        }
        return table.Lists[VnodeIndexOf(token)];
    }

    /// <summary>
    /// The replica targets of a token under a sloppy quorum (Dynamo §4.6): the available nodes of the
    /// preference list as primaries, then, for each unavailable one in order, the next available node
    /// further clockwise as its fallback. Fewer entries when too few nodes are available.
    /// </summary>
    public IReadOnlyList<PreferenceListEntry> PreferenceList(ulong token, int replicationFactor, IReadOnlySet<string> unavailable)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        ArgumentNullException.ThrowIfNull(unavailable);
        var entries = new List<PreferenceListEntry>(replicationFactor);
        if (_tokens.Length == 0)
        {
            return entries;
        }
        var missing = new Queue<string>();
        var walked = 0;
        foreach (var node in DistinctNodesFrom(VnodeIndexOf(token)))
        {
            if (walked++ < replicationFactor)
            {
                if (unavailable.Contains(node))
                {
                    missing.Enqueue(node);
                }
                else
                {
                    entries.Add(PreferenceListEntry.Primary(node));
                }
            }
            else if (missing.Count == 0)
            {
                break;
            }
            else if (!unavailable.Contains(node))
            {
                entries.Add(PreferenceListEntry.Fallback(node, missing.Dequeue()));
            }
        }
        return entries;
    }

    private IReadOnlyList<string>[] BuildPreferenceLists(int replicationFactor)
    {
        var lists = new IReadOnlyList<string>[_tokens.Length];
        for (var i = 0; i < _tokens.Length; i++)
        {
            lists[i] = Array.AsReadOnly(DistinctNodesFrom(i).Take(replicationFactor).ToArray());
        }
        return lists;
    }

    /// <summary>The physical nodes in the order their first vnode appears walking clockwise from a vnode index.</summary>
    private IEnumerable<string> DistinctNodesFrom(int vnodeIndex)
    {
        var seen = new bool[_nodes.Length];
        var found = 0;
        for (var step = 0; step < _tokens.Length && found < _nodes.Length; step++)
        {
            var owner = _owners[(vnodeIndex + step) % _tokens.Length];
            if (!seen[owner])
            {
                seen[owner] = true;
                found++;
                yield return _nodes[owner];
            }
        }
    }

    private sealed record PreferenceTable(int ReplicationFactor, IReadOnlyList<string>[] Lists);
}
