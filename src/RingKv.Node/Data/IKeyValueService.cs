using RingKv.Storage;

namespace RingKv.Node.Data;

/// <summary>
/// What the v1 API talks to. On a single node it is the local engine; in a cluster it is the
/// request coordinator (<see cref="Replication.ReplicatedKeyValueService"/>) that sends the request
/// to the key's replicas and waits for a quorum.
/// </summary>
public interface IKeyValueService
{
    /// <summary>
    /// The newest entry for the key among <paramref name="readQuorum"/> replicas (null: the
    /// service default), tombstones and expired entries included: the API decides what is visible.
    /// </summary>
    ValueTask<StoredEntry?> GetAsync(string key, int? readQuorum, CancellationToken cancellationToken);

    /// <summary>Writes and waits for <paramref name="writeQuorum"/> acknowledgements (null: the service default).</summary>
    ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, int? writeQuorum, CancellationToken cancellationToken);

    /// <summary>
    /// Writes an entry with the version it already carries (a restored backup) and waits for
    /// <paramref name="writeQuorum"/> acknowledgements. Never re-stamped: a replica holding a newer
    /// version keeps it, and the result is <see cref="WriteStatus.Stale"/> (last writer wins).
    /// </summary>
    ValueTask<WriteResult> RestoreAsync(StoredEntry entry, int? writeQuorum, CancellationToken cancellationToken);

    /// <summary>Live keys after a position, in a stable order. At most <paramref name="limit"/> keys.</summary>
    ValueTask<KeyPage> ListKeysAsync(string prefix, ScanPosition after, int limit, CancellationToken cancellationToken);

    /// <summary>The replication factor requests are checked against (1 on a single node).</summary>
    int ReplicationFactor { get; }
}

/// <param name="Keys">The keys of this page.</param>
/// <param name="Next">Where the next page starts, or null when the listing is complete.</param>
public sealed record KeyPage(IReadOnlyList<string> Keys, ScanPosition? Next);

/// <summary>Fewer replicas than required answered in time. The API answers 503 <c>insufficient-replicas</c>.</summary>
public sealed class InsufficientReplicasException(string operation, int required, int answered, int replicas)
    : Exception($"{operation}: {answered} of {replicas} replicas answered in time, {required} required.")
{
    public string Operation { get; } = operation;

    public int Required { get; } = required;

    public int Answered { get; } = answered;

    public int Replicas { get; } = replicas;
}

/// <summary>The node has not been admitted to a cluster yet, or has no cluster map.</summary>
public sealed class NodeNotReadyException(string reason) : Exception(reason);
