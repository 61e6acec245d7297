namespace RingKv.Storage;

/// <summary>
/// The store refused a write it could not make durable: the disk is full (<see cref="StorageState.Full"/>)
/// or the engine is being reopened after a failed write or sync (<see cref="StorageState.Recovering"/>).
/// The write was not acknowledged; it may or may not have reached the log. The HTTP API answers 507
/// <c>insufficient-storage</c> or 503 <c>storage-recovering</c>; a replica fails the peer's batch,
/// which then falls back to a hint elsewhere.
/// </summary>
public sealed class StorageRefusedException(StorageState state, string message, Exception? inner = null) : IOException(message, inner)
{
    public StorageState State { get; } = state;

    /// <summary>The refusal for a status that does not accept writes.</summary>
    public static StorageRefusedException For(StorageStatus status) =>
        new(status.State, status.Reason ?? "This node's storage does not accept writes now.");
}
