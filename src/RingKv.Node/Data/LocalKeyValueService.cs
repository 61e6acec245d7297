using RingKv.Storage;

namespace RingKv.Node.Data;

/// <summary>A single node serving from its own engine (<c>ringkv node</c> without <c>--join</c>).</summary>
public sealed class LocalKeyValueService(IStorageEngine engine, TimeProvider time) : IKeyValueService
{
    public int ReplicationFactor => 1;

    public ValueTask<StoredEntry?> GetAsync(string key, int? readQuorum, CancellationToken cancellationToken) =>
        ValueTask.FromResult(engine.Get(key));

    public ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, int? writeQuorum, CancellationToken cancellationToken) =>
        engine.WriteAsync(entry, precondition, cancellationToken);

    public ValueTask<WriteResult> RestoreAsync(StoredEntry entry, int? writeQuorum, CancellationToken cancellationToken) =>
        engine.WriteAsync(entry, WritePrecondition.None, cancellationToken);

    public ValueTask<KeyPage> ListKeysAsync(string prefix, ScanPosition after, int limit, CancellationToken cancellationToken) =>
        ValueTask.FromResult(LocalListing.Page(engine, prefix, after, limit, time.GetUtcNow().ToUnixTimeMilliseconds()));
}
