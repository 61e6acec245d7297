namespace RingKv.Node.Internode;

/// <summary>
/// What a replica did with one entry of a write. On the wire: internode.proto's
/// <c>ReplicaWriteStatus</c>, mapped in one place (<see cref="Grpc.WriteOutcomeMessages"/>).
/// </summary>
public enum ReplicaWriteOutcome
{
    /// <summary>Applied, or for a hint: stored.</summary>
    Applied,

    /// <summary>The replica holds a newer version; its clock is now past it, so the writer can re-stamp above it.</summary>
    Stale,

    /// <summary>A hint was refused: the replica's hint store is full.</summary>
    HintRefused,

    /// <summary>Not stored: the version is further ahead of the replica's clock than its <c>--max-clock-skew</c>.</summary>
    TooFarAhead,
}
