namespace RingKv.Core.Transfers;

/// <summary>
/// Everything one node must receive for a membership change: disjoint ranges in ring order, adjacent
/// ranges with the same sources merged (riak_core's handoff, grouped per receiver).
/// </summary>
public sealed record Transfer(string Destination, IReadOnlyList<TransferRange> Ranges)
{
    /// <summary>The share of the token space to copy, for progress and for checking that only what must move moves.</summary>
    public double Fraction => Ranges.Sum(r => r.Range.Fraction);
}
