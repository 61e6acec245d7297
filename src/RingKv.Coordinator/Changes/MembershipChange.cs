namespace RingKv.Coordinator.Changes;

public enum ChangeKind
{
    /// <summary>A new member receives its ranges, then owns them.</summary>
    Join,

    /// <summary>A live member hands its ranges over, then leaves.</summary>
    Decommission,
}

public enum ChangeState
{
    Queued,
    Running,
    Done,
    Cancelled,
    Failed,
}

/// <summary>One membership change, queued and run one at a time, visible to operators.</summary>
public sealed class MembershipChange(string id, ChangeKind kind, string nodeId, DateTimeOffset createdAt)
{
    private volatile bool _cancelRequested;

    public string Id { get; } = id;

    public ChangeKind Kind { get; } = kind;

    public string NodeId { get; } = nodeId;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public ChangeState State { get; set; } = ChangeState.Queued;

    public DateTimeOffset? FinishedAt { get; set; }

    public string? Error { get; set; }

    /// <summary>The transfers this change started; replaced as a whole, so readers on other threads see a complete list.</summary>
    public IReadOnlyList<string> TransferIds { get; private set; } = [];

    public void AddTransfers(IEnumerable<string> ids) => TransferIds = [.. TransferIds, .. ids];

    public bool CancelRequested => _cancelRequested;

    public void RequestCancel() => _cancelRequested = true;
}
