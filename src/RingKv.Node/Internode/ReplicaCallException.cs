namespace RingKv.Node.Internode;

/// <summary>A call to a peer's replica that failed: it may or may not have taken effect there.</summary>
public sealed class ReplicaCallException(ReplicaFailure failure, string message, Exception? innerException = null) : Exception(message, innerException)
{
    public ReplicaFailure Failure { get; } = failure;
}

public enum ReplicaFailure
{
    /// <summary>The peer failed the call, refused it, or could not be reached.</summary>
    Error,

    /// <summary>No answer within the call's deadline (a paused, overloaded or cut-off peer).</summary>
    Timeout,

    /// <summary>Not sent: too many bytes already wait for that peer.</summary>
    Backlogged,

    /// <summary>The peer stored nothing: its disk is full or its engine is being reopened.</summary>
    StorageRefused,
}
