namespace RingKv.Core.Ring;

public sealed partial class ConsistentHashRing
{
    /// <summary>
    /// Every vnode's arc with its preference list, in token order. Adjacent arcs may have the same
    /// list; they are kept apart because each is what one vnode owns and hands off.
    /// </summary>
    public IReadOnlyList<ReplicatedRange> Ranges(int replicationFactor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(replicationFactor, 1);
        var ranges = new ReplicatedRange[_tokens.Length];
        for (var i = 0; i < _tokens.Length; i++)
        {
            ranges[i] = new ReplicatedRange(RangeAt(i), PreferenceList(_tokens[i], replicationFactor));
        }
        return ranges;
    }
}
