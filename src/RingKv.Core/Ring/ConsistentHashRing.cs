namespace RingKv.Core.Ring;

/// <summary>
/// An immutable consistent-hashing ring (Karger et al. 1997; Dynamo §4.2): a sorted set of vnode
/// tokens, each assigned to a physical node. The vnode at token t owns the keys whose token is in
/// (previous vnode's token, t]; ownership wraps from the highest token to the lowest.
/// </summary>
/// <remarks>
/// Immutable so that a ring can be shared by every request thread and swapped as a whole with the
/// cluster map it belongs to. Changes return a new ring (<see cref="WithNode"/>, <see cref="WithoutNode"/>);
/// existing tokens never move, so a change only moves the keys of the arcs it touches.
/// Split by aspect: preference lists in ConsistentHashRing.PreferenceList.cs, ranges in
/// ConsistentHashRing.Ranges.cs.
/// </remarks>
public sealed partial class ConsistentHashRing
{
    // Parallel arrays sorted by token: lookups binary-search _tokens and read _owners.
    private readonly ulong[] _tokens;
    private readonly int[] _owners;
    private readonly string[] _nodes;
    private readonly Dictionary<string, int> _nodeIndex;
    private readonly double[] _ownership;
    private readonly VirtualNode[] _virtualNodes;

    public static ConsistentHashRing Empty { get; } = new([]);

    /// <summary>Builds a ring from vnode assignments. Tokens must be distinct: one token has one owner.</summary>
    public ConsistentHashRing(IEnumerable<VirtualNode> virtualNodes)
    {
        ArgumentNullException.ThrowIfNull(virtualNodes);
        var sorted = virtualNodes.ToArray();
        Array.Sort(sorted, static (a, b) => a.Token.CompareTo(b.Token));

        _nodes = sorted.Select(v => v.NodeId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        _nodeIndex = new Dictionary<string, int>(_nodes.Length, StringComparer.Ordinal);
        for (var i = 0; i < _nodes.Length; i++)
        {
            if (string.IsNullOrEmpty(_nodes[i]))
            {
                throw new ArgumentException("A vnode has an empty node id. Give every node a non-empty id such as \"n1\".", nameof(virtualNodes));
            }
            _nodeIndex[_nodes[i]] = i;
        }

        _tokens = new ulong[sorted.Length];
        _owners = new int[sorted.Length];
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i > 0 && sorted[i].Token == sorted[i - 1].Token)
            {
                throw new ArgumentException(
                    $"Token {sorted[i].Token:x16} is assigned to both {sorted[i - 1].NodeId} and {sorted[i].NodeId}. " +
                    "Every vnode needs a distinct token; allocate tokens with TokenAllocator.", nameof(virtualNodes));
            }
            _tokens[i] = sorted[i].Token;
            _owners[i] = _nodeIndex[sorted[i].NodeId];
        }
        _virtualNodes = sorted;

        _ownership = new double[_nodes.Length];
        for (var i = 0; i < _tokens.Length; i++)
        {
            _ownership[_owners[i]] += RangeAt(i).Fraction;
        }
    }

    /// <summary>Builds a ring from each node's tokens, as stored in the cluster map.</summary>
    public static ConsistentHashRing FromNodeTokens(IEnumerable<KeyValuePair<string, IReadOnlyList<ulong>>> nodeTokens)
    {
        ArgumentNullException.ThrowIfNull(nodeTokens);
        return new ConsistentHashRing(nodeTokens.SelectMany(n => n.Value.Select(t => new VirtualNode(t, n.Key))));
    }

    /// <summary>The physical nodes that own at least one vnode, in ordinal order.</summary>
    public IReadOnlyList<string> Nodes => _nodes;

    /// <summary>Every vnode, sorted by token.</summary>
    public IReadOnlyList<VirtualNode> VirtualNodes => _virtualNodes;

    public int NodeCount => _nodes.Length;

    public bool IsEmpty => _tokens.Length == 0;

    public bool Contains(string nodeId) => _nodeIndex.ContainsKey(nodeId);

    /// <summary>The node's tokens in ascending order; empty when the node is not on the ring.</summary>
    public IReadOnlyList<ulong> TokensOf(string nodeId)
    {
        if (!_nodeIndex.TryGetValue(nodeId, out var index))
        {
            return [];
        }
        var tokens = new List<ulong>();
        for (var i = 0; i < _tokens.Length; i++)
        {
            if (_owners[i] == index)
            {
                tokens.Add(_tokens[i]);
            }
        }
        return tokens;
    }

    /// <summary>
    /// The share of the token space (a fraction of 2^64) for which the node is the primary, i.e. the
    /// first entry of the preference list; 0 for a node that is not on the ring.
    /// </summary>
    public double Ownership(string nodeId) => _nodeIndex.TryGetValue(nodeId, out var index) ? _ownership[index] : 0.0;

    /// <summary>The primary owner of a token: the node of the first vnode at or clockwise after it.</summary>
    public string OwnerOf(ulong token)
    {
        ThrowIfEmpty();
        return _nodes[_owners[VnodeIndexOf(token)]];
    }

    /// <summary>A ring with the node's tokens added. The node must not be on the ring yet.</summary>
    public ConsistentHashRing WithNode(string nodeId, IEnumerable<ulong> tokens)
    {
        ArgumentException.ThrowIfNullOrEmpty(nodeId);
        if (Contains(nodeId))
        {
            throw new ArgumentException($"Node {nodeId} is already on the ring. Remove it first to give it other tokens.", nameof(nodeId));
        }
        return new ConsistentHashRing(_virtualNodes.Concat(tokens.Select(t => new VirtualNode(t, nodeId))));
    }

    /// <summary>
    /// A ring without the node's tokens: each of its arcs joins the arc of the next vnode clockwise,
    /// whose node takes the keys over. The other tokens stay where they are.
    /// </summary>
    public ConsistentHashRing WithoutNode(string nodeId) =>
        Contains(nodeId) ? new ConsistentHashRing(_virtualNodes.Where(v => !string.Equals(v.NodeId, nodeId, StringComparison.Ordinal))) : this;

    /// <summary>Index of the vnode that owns a token: the first at or after it, wrapping to 0.</summary>
    private int VnodeIndexOf(ulong token)
    {
        var index = Array.BinarySearch(_tokens, token);
        if (index < 0)
        {
            index = ~index;
        }
        return index == _tokens.Length ? 0 : index;
    }

    /// <summary>The arc owned by the vnode at an index: from the previous vnode's token (exclusive) to its own.</summary>
    private TokenRange RangeAt(int index) =>
        new(_tokens[index == 0 ? _tokens.Length - 1 : index - 1], _tokens[index]);

    private void ThrowIfEmpty()
    {
        if (_tokens.Length == 0)
        {
            throw new InvalidOperationException("The ring has no vnodes. Add a node (TokenAllocator.AddNode) before routing keys.");
        }
    }
}
