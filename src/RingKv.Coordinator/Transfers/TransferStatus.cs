using RingKv.Core.Transfers;

namespace RingKv.Coordinator.Transfers;

public enum TransferState
{
    Pending,
    Running,
    Done,
    Cancelled,
    Failed,
}

/// <summary>One transfer as an operator sees it: what moves where, how far it got, and how it ended.</summary>
public sealed class TransferStatus(string id, string reason, Transfer transfer, DateTimeOffset createdAt)
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _cancelRequested;

    public string Id { get; } = id;

    public string Reason { get; } = reason;

    public Transfer Transfer { get; } = transfer;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public TransferState State { get; private set; } = TransferState.Pending;

    public int RangesDone { get; private set; }

    public long Keys { get; private set; }

    public long Bytes { get; private set; }

    public DateTimeOffset? StartedAt { get; private set; }

    public DateTimeOffset? FinishedAt { get; private set; }

    public string? LastSource { get; private set; }

    public string? Error { get; private set; }

    public int RangesTotal => Transfer.Ranges.Count;

    public bool IsActive => State is TransferState.Pending or TransferState.Running;

    /// <summary>The membership change this transfer belongs to, if any.</summary>
    public string? ChangeId { get; init; }

    /// <summary>Completes when the transfer is done, failed or cancelled.</summary>
    public Task Finished => _finished.Task;

    public bool CancelRequested => _cancelRequested;

    public void RequestCancel() => _cancelRequested = true;

    public void Start(DateTimeOffset now)
    {
        lock (_gate)
        {
            State = TransferState.Running;
            StartedAt = now;
        }
    }

    public void RangeDone(string source, long keys, long bytes)
    {
        lock (_gate)
        {
            RangesDone++;
            Keys += keys;
            Bytes += bytes;
            LastSource = source;
        }
    }

    public void Finish(TransferState state, DateTimeOffset now, string? error = null)
    {
        lock (_gate)
        {
            State = state;
            FinishedAt = now;
            Error = error;
        }
        _finished.TrySetResult();
    }

    /// <summary>Keys per second since the start.</summary>
    public double Rate(DateTimeOffset now) =>
        StartedAt is { } started && ((FinishedAt ?? now) - started).TotalSeconds is var seconds and > 0 ? Keys / seconds : 0;
}
