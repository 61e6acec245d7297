using System.Globalization;

namespace RingKv.Cluster.Tests.Histories;

public enum OperationKind
{
    Put,
    Get,
    Delete,
}

/// <summary>How a client operation ended, as the client saw it.</summary>
public enum Outcome
{
    /// <summary>Acknowledged: a write took effect at quorum; a read answered (a value or not-found).</summary>
    Ok,

    /// <summary>Certainly without effect: nothing was sent (connection refused) or the request was refused (4xx).</summary>
    Failed,

    /// <summary>
    /// May or may not have taken effect: <c>503 insufficient-replicas</c> (the replicas that took the
    /// write keep it, docs/API.md) or no answer at all (a timeout, a reset).
    /// </summary>
    Unknown,
}

/// <summary>
/// One client operation of a recorded history. Values are unique per write, so a value seen later
/// names the one write that produced it.
/// </summary>
/// <param name="Client">Which client issued it; a client issues one operation at a time.</param>
/// <param name="Value">The value a put wrote; null for gets and deletes.</param>
/// <param name="Start">Wall-clock time before the request was sent.</param>
/// <param name="End">Wall-clock time the answer (or the failure) arrived.</param>
/// <param name="OpenEnded">
/// No answer came (a timeout or reset): the server may act on the request at any time after
/// <paramref name="Start"/>, so its version may be newer than anything that came after it. A
/// 503 answer is not open-ended: the version was stamped before the answer was sent.
/// </param>
/// <param name="Observed">What a successful get returned: the value, or null for not-found.</param>
/// <param name="Detail">The HTTP status or the error, for failure messages.</param>
public sealed record Operation(
    long Sequence,
    int Client,
    OperationKind Kind,
    string Key,
    string? Value,
    DateTime Start,
    DateTime End,
    Outcome Outcome,
    bool OpenEnded,
    string? Observed,
    string Detail)
{
    public bool IsWrite => Kind is OperationKind.Put or OperationKind.Delete;

    /// <summary>A write that may have taken effect: acknowledged or unknown.</summary>
    public bool MayHaveWritten => IsWrite && Outcome != Outcome.Failed;

    /// <summary>The state this write leaves the key in: its value, or null for a delete.</summary>
    public string? Written => Kind == OperationKind.Put ? Value : null;

    public override string ToString()
    {
        var what = Kind switch
        {
            OperationKind.Put => $"put {Key}={Value}",
            OperationKind.Delete => $"delete {Key}",
            _ => $"get {Key} -> {(Outcome == Outcome.Ok ? Observed ?? "not-found" : "?")}",
        };
        var end = OpenEnded ? "open" : End.ToString("HH:mm:ss.ffff", CultureInfo.InvariantCulture);
        return $"#{Sequence} c{Client} {what} [{Start.ToString("HH:mm:ss.ffff", CultureInfo.InvariantCulture)} .. {end}] {Outcome} ({Detail})";
    }
}
