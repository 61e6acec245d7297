namespace RingKv.Core.Transfers;

/// <summary>
/// What a membership change moves, as computed by <see cref="TransferPlanner"/>: the copies to make
/// before the switch and the copies to drop after it. Ordered by node id.
/// </summary>
/// <param name="Transfers">Per destination, the ranges it gains, each with at least one live source.</param>
/// <param name="Unsourced">
/// Ranges a destination gains whose old owners are all unavailable: no copy can be made until one of
/// them returns. Empty in a healthy change; the coordinator waits or reports the data as at risk.
/// </param>
/// <param name="Releases">Per node staying on the ring, the ranges it may drop after the switch.</param>
public sealed record TransferPlan(
    IReadOnlyList<Transfer> Transfers,
    IReadOnlyList<Transfer> Unsourced,
    IReadOnlyList<RangeRelease> Releases)
{
    public static TransferPlan Empty { get; } = new([], [], []);

    public bool IsEmpty => Transfers.Count == 0 && Unsourced.Count == 0 && Releases.Count == 0;
}
