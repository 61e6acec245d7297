using RingKv.Node.Internode.Protocol;

namespace RingKv.Node.Internode.Grpc;

/// <summary>The one place write outcomes meet their wire form (internode.proto, <c>ReplicaWriteStatus</c>).</summary>
public static class WriteOutcomeMessages
{
    public static ReplicaWriteStatus ToMessage(this ReplicaWriteOutcome outcome) => outcome switch
    {
        ReplicaWriteOutcome.Applied => ReplicaWriteStatus.Applied,
        ReplicaWriteOutcome.Stale => ReplicaWriteStatus.Stale,
        ReplicaWriteOutcome.HintRefused => ReplicaWriteStatus.HintRefused,
        ReplicaWriteOutcome.TooFarAhead => ReplicaWriteStatus.TooFarAhead,
        _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Not a write outcome."),
    };

    /// <summary>A status this release does not know (a newer peer's) is a refusal, as the other two are: the entry was not stored as asked.</summary>
    public static ReplicaWriteOutcome ToOutcome(this ReplicaWriteStatus status) => status switch
    {
        ReplicaWriteStatus.Applied => ReplicaWriteOutcome.Applied,
        ReplicaWriteStatus.Stale => ReplicaWriteOutcome.Stale,
        ReplicaWriteStatus.HintRefused => ReplicaWriteOutcome.HintRefused,
        _ => ReplicaWriteOutcome.TooFarAhead,
    };
}
