using System.Text;
using RingKv.Storage;

namespace RingKv.Node.Data;

/// <summary>A single node serving from its own engine.</summary>
public sealed class LocalKeyValueService(IStorageEngine engine, TimeProvider time) : IKeyValueService
{
    public ValueTask<StoredEntry?> GetAsync(string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult(engine.Get(key));

    public ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, CancellationToken cancellationToken) =>
        engine.WriteAsync(entry, precondition, cancellationToken);

    public KeyPage ListKeys(string prefix, ScanPosition after, int limit, int scanBudget)
    {
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var keys = new List<string>(Math.Min(limit, 1024));
        var scanned = 0;
        StoredEntry? last = null;
        foreach (var entry in engine.Scan(after))
        {
            if (keys.Count == limit || scanned == scanBudget)
            {
                // More entries exist: the next page resumes after the last one looked at.
                return new KeyPage(keys, PositionOf(last!));
            }
            scanned++;
            last = entry;
            if (entry.IsLive(nowMs) && entry.Key.StartsWith(prefix, StringComparison.Ordinal))
            {
                keys.Add(entry.Key);
            }
        }
        return new KeyPage(keys, null);
    }

    private static ScanPosition PositionOf(StoredEntry entry) => new(entry.Token, Encoding.UTF8.GetBytes(entry.Key));
}
