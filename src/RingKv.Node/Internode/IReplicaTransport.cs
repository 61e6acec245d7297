using RingKv.Core.AntiEntropy;
using RingKv.Core.Ring;
using RingKv.Node.Data;
using RingKv.Storage;

namespace RingKv.Node.Internode;

/// <summary>
/// How this node reaches its peers' replicas: the seam between the replication logic (the request
/// coordinator, hinted handoff, anti-entropy) and the network, as riak_core's handoff sender is
/// apart from its transport and etcd's raft leaves network and disk to its user. Everything that
/// crosses it is ours (entries, outcomes, digests), never a wire type. Two implementations:
/// <see cref="Grpc.GrpcReplicaTransport"/> (HTTP/2, batched calls on long-lived streams) and the
/// component tests' in-memory one, which can delay, drop, reorder and fail calls.
/// </summary>
public interface IReplicaTransport
{
    /// <summary>The peer at <paramref name="internodeUrl"/>; the same object for the same URL, for the life of the transport.</summary>
    IReplicaPeer For(string internodeUrl);
}

/// <summary>
/// One peer's replica. Every failure surfaces as a <see cref="ReplicaCallException"/> (on the task,
/// or in <see cref="IBatchCompletion{TResult}.Fail"/>); a call that is never answered fails once
/// the transport gives up on it.
/// </summary>
public interface IReplicaPeer
{
    /// <summary>
    /// Applies an entry on the peer and tells <paramref name="target"/> the outcome as
    /// <paramref name="slot"/>, or the failure. Concurrent writes to one peer may go as one batch.
    /// False: too many bytes already wait for this peer, and nothing was sent (<see cref="Backlogged"/>).
    /// </summary>
    /// <param name="logged">
    /// The peer may answer once the entry is in its write-ahead log, before its sync: this node
    /// keeps a synced copy itself (<c>--synced-acks one</c>). A batch with any entry that is not
    /// so is answered after the sync.
    /// </param>
    bool TryWrite(StoredEntry entry, bool logged, IBatchCompletion<ReplicaWriteOutcome> target, int slot);

    /// <summary>The failure of a write <see cref="TryWrite"/> refused because too many bytes already wait for this peer.</summary>
    ReplicaCallException Backlogged();

    /// <summary>Applies an entry on the peer: <see cref="ReplicaWriteOutcome.Applied"/>, or why not.</summary>
    Task<ReplicaWriteOutcome> WriteAsync(StoredEntry entry);

    /// <summary>Asks the peer to keep an entry as a hint for a down owner: <see cref="ReplicaWriteOutcome.Applied"/> once stored.</summary>
    Task<ReplicaWriteOutcome> WriteHintAsync(StoredEntry entry, string owner);

    /// <summary>
    /// Reads a key on the peer and tells <paramref name="target"/> its copy (null: none, or one the
    /// peer sent that is not a valid entry) as <paramref name="slot"/>, or the failure.
    /// </summary>
    void Read(string key, IBatchCompletion<StoredEntry?> target, int slot);

    /// <summary>The peer's own entries after <paramref name="after"/>, tombstones included; values are left out.</summary>
    Task<LocalListing.Slice> ListAsync(string prefix, ScanPosition after, int limit, CancellationToken cancellationToken);

    /// <summary>The peer's hash tree of a range: 2^<paramref name="depth"/> leaf digests in token order.</summary>
    Task<IReadOnlyList<RangeDigest>> RangeTreeAsync(TokenRange range, int depth, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Every entry the peer holds in a range (tombstones included) in token order, in chunks; the
    /// last chunk says so. A stream that ends without it was cut short.
    /// </summary>
    /// <exception cref="InvalidDataException">The peer sent something that is not a valid entry.</exception>
    IAsyncEnumerable<EntryChunk> StreamRangeAsync(TokenRange range, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>Part of a range's entries, as a peer streams them.</summary>
/// <param name="Last">Set on the closing chunk only.</param>
public sealed record EntryChunk(IReadOnlyList<StoredEntry> Entries, bool Last);
