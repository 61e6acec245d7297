using RingKv.Core.Hashing;
using RingKv.Core.Versioning;
using RingKv.Node.Api;
using RingKv.Storage;

namespace RingKv.Node.Resp;

// The request path every key command shares: the same IKeyValueService as the REST API (the
// request coordinator in a cluster), with this connection's quorums. A read answers the newest of
// R replicas; a write is stamped with a new version from the node's hybrid logical clock and
// waits for W acknowledgements.
public sealed partial class RespConnection
{
    private string Key(byte[] argument) => RespKeys.Decode(argument, Node.Options.MaxKeyBytes);

    /// <summary>The key's live entry at R, or null when absent, deleted or expired.</summary>
    private async ValueTask<StoredEntry?> ReadLiveAsync(string key)
    {
        var entry = await Node.Service.GetAsync(key, ReadQuorum, Aborted);
        var live = entry is not null && entry.IsLive(Node.NowMs());
        _server.Hit(live);
        return live ? entry : null;
    }

    private StoredEntry NewEntry(string key, byte[] value, string contentType, long expiresAtMs) =>
        new(key, KeyToken.Of(key), value, contentType, new EntryVersion(Node.Clock.Now(), Node.Options.NodeId), Deleted: false, expiresAtMs);

    private async ValueTask WriteEntryAsync(StoredEntry entry) =>
        await Node.Service.WriteAsync(entry, WritePrecondition.None, WriteQuorum, Aborted);

    /// <summary>Writes only if no live entry exists (checked at quorum, then written: as REST's If-None-Match: *). Returns whether it wrote.</summary>
    private async ValueTask<bool> WriteIfAbsentAsync(StoredEntry entry)
    {
        var result = await Node.Service.WriteAsync(entry, WritePrecondition.IfAbsent, WriteQuorum, Aborted);
        return result.Status != WriteStatus.PreconditionFailed;
    }

    private ValueTask DeleteKeyAsync(string key) =>
        WriteEntryAsync(StoredEntry.Tombstone(key, KeyToken.Of(key), new EntryVersion(Node.Clock.Now(), Node.Options.NodeId)));

    /// <summary>The same value under a new version with another expiry (EXPIRE, PERSIST, GETEX): content type kept.</summary>
    private ValueTask RewriteAsync(StoredEntry current, byte[] value, long expiresAtMs) =>
        WriteEntryAsync(NewEntry(current.Key, value, current.ContentType, expiresAtMs));

    /// <summary>Serializes this node's read-modify-write commands on the key (<see cref="RespKeyLocks"/>).</summary>
    private ValueTask<RespKeyLocks.Releaser> LockAsync(string key) => _server.KeyLocks.AcquireAsync(KeyToken.Of(key), Aborted);

    /// <summary>Writes the entry's value, or a null; returns whether there was a value.</summary>
    private bool WriteValueOrNull(StoredEntry? entry)
    {
        if (entry is not null && entry.IsLive(Node.NowMs()))
        {
            _server.Hit(true);
            _writer.Bulk(entry.Value);
            return true;
        }
        _server.Hit(false);
        _writer.Null();
        return false;
    }

    private void CheckValueSize(long length)
    {
        if (length > Node.Options.MaxValueBytes)
        {
            throw new RespCommandException($"ERR string exceeds maximum allowed size ({Node.Options.MaxValueBytes} bytes, --max-value-bytes)");
        }
    }

    /// <summary>
    /// An expiry given as a relative or absolute time, in Unix milliseconds; the same bound as
    /// REST's ?ttl (ten years). A time already past means "delete": Redis's rule for SET EXAT,
    /// EXPIRE with a past time, and so on.
    /// </summary>
    private long ExpiryAt(byte[] argument, long unitMs, bool absolute, string command)
    {
        if (!RespText.TryParseInteger(argument, out var amount))
        {
            throw new RespCommandException("ERR value is not an integer or out of range");
        }
        var now = Node.NowMs();
        var maxMs = KvEndpoints.MaxTtlSeconds * 1000;
        long at;
        try
        {
            at = absolute ? checked(amount * unitMs) : checked(now + (amount * unitMs));
        }
        catch (OverflowException)
        {
            throw new RespCommandException($"ERR invalid expire time in '{command}' command");
        }
        if (at - now > maxMs)
        {
            throw new RespCommandException($"ERR invalid expire time in '{command}' command (at most {KvEndpoints.MaxTtlSeconds} seconds ahead)");
        }
        return at;
    }
}
