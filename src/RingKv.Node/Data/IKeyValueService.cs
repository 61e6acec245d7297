using RingKv.Storage;

namespace RingKv.Node.Data;

/// <summary>
/// What the v1 API talks to. On a single node it is the local engine; in a cluster it is the
/// request coordinator that fans out to the key's replicas and waits for a quorum.
/// </summary>
public interface IKeyValueService
{
    /// <summary>The newest entry for the key, tombstones and expired entries included (the API decides what is visible).</summary>
    ValueTask<StoredEntry?> GetAsync(string key, CancellationToken cancellationToken);

    ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, CancellationToken cancellationToken);

    /// <summary>Live keys after a position, in a stable order. At most <paramref name="limit"/> keys; scans at most <paramref name="scanBudget"/> entries.</summary>
    KeyPage ListKeys(string prefix, ScanPosition after, int limit, int scanBudget);
}

/// <param name="Keys">The keys of this page.</param>
/// <param name="Next">Where the next page starts, or null when the listing is complete.</param>
public sealed record KeyPage(IReadOnlyList<string> Keys, ScanPosition? Next);
