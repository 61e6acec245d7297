using RingKv.Core.Versioning;

namespace RingKv.Storage;

/// <summary>
/// One stored entry, live or a tombstone. Immutable: engines replace entries, never mutate them.
/// </summary>
/// <param name="Key">The user key.</param>
/// <param name="Token">The key's ring token (<see cref="Core.Hashing.KeyToken"/>), the primary sort order on disk.</param>
/// <param name="Value">The value bytes, exactly as written; empty for a tombstone.</param>
/// <param name="ContentType">The content type given at write time.</param>
/// <param name="Version">Hybrid logical clock timestamp plus writer id; the newest version wins.</param>
/// <param name="Deleted">A tombstone: the key was deleted at <paramref name="Version"/>.</param>
/// <param name="ExpiresAtMs">Unix milliseconds after which the entry reads as absent; 0 for never.</param>
public sealed record StoredEntry(
    string Key,
    ulong Token,
    byte[] Value,
    string ContentType,
    EntryVersion Version,
    bool Deleted,
    long ExpiresAtMs)
{
    public const string DefaultContentType = "application/octet-stream";

    /// <summary>Whether a reader at <paramref name="nowMs"/> sees this entry: neither deleted nor expired.</summary>
    public bool IsLive(long nowMs) => !Deleted && (ExpiresAtMs == 0 || ExpiresAtMs > nowMs);

    public static StoredEntry Tombstone(string key, ulong token, EntryVersion version) =>
        new(key, token, [], DefaultContentType, version, Deleted: true, ExpiresAtMs: 0);
}
