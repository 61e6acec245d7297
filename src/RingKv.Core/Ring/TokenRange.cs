namespace RingKv.Core.Ring;

/// <summary>
/// An arc of the 64-bit token ring: tokens after <see cref="Start"/> up to and including
/// <see cref="End"/>, walking clockwise (upwards, wrapping from <see cref="ulong.MaxValue"/> to 0).
/// </summary>
/// <remarks>
/// Start-exclusive/end-inclusive matches ownership: a vnode at token t owns the keys whose token
/// is after the previous vnode's token and at most t, so the range of a vnode ends at its own token.
/// Start == End is the whole ring (what a ring with a single vnode owns); an empty range is never
/// needed, so it has no representation.
/// </remarks>
public readonly record struct TokenRange(ulong Start, ulong End)
{
    private const double RingSize = 18446744073709551616.0; // 2^64

    /// <summary>The whole ring, as owned by a single vnode.</summary>
    public static TokenRange Full => new(0, 0);

    public bool IsFull => Start == End;

    /// <summary>True when the range crosses the top of the token space (ulong.MaxValue to 0).</summary>
    public bool Wraps => End < Start;

    /// <summary>Number of tokens in the range, 1..2^64 (hence UInt128).</summary>
    public UInt128 Size => IsFull ? (UInt128)ulong.MaxValue + 1 : unchecked(End - Start);

    /// <summary>The range's share of the ring, in (0, 1].</summary>
    public double Fraction => IsFull ? 1.0 : unchecked(End - Start) / RingSize;

    public bool Contains(ulong token) =>
        IsFull || (Start < End ? token > Start && token <= End : token > Start || token <= End);

    public override string ToString() => $"({Start:x16}, {End:x16}]";
}
