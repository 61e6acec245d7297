namespace RingKv.Node.AntiEntropy;

/// <summary>What comparing one range with one peer found and did.</summary>
/// <param name="LeavesDiffering">Leaves of the compared tree whose digests differed; 0 when the replicas were in sync.</param>
/// <param name="Scanned">Entries scanned for the exchange, on either side (the peer's tree and streams included).</param>
/// <param name="Pulled">Entries the peer had newer (or only it had) that this node applied.</param>
/// <param name="Pushed">Entries this node had newer (or only it had) that the peer applied.</param>
public readonly record struct ExchangeOutcome(int LeavesDiffering, long Scanned, long Pulled, long Pushed)
{
    public bool InSync => LeavesDiffering == 0;
}
