using System.Globalization;
using System.Text;
using RingKv.Storage;

namespace RingKv.Node.Resp;

// Keys and expiry. An expiry is part of the entry (its ExpiresAtMs), so changing it writes the
// value again under a new version, with the key's lock held on this node. Listing commands walk
// the cluster-wide listing the REST API's GET /v1/kv serves: every key once, at its newest version.
public sealed partial class RespConnection
{
    /// <summary>KEYS answers at most this many keys; past it, SCAN is the way (a listing of the whole cluster must not be one reply).</summary>
    public const int MaxKeysReply = 10_000;

    private const int ListPage = 1000;

    internal async ValueTask DelAsync(byte[][] a)
    {
        var keys = a.Skip(1).Select(Key).ToArray();
        var deleted = await Task.WhenAll(keys.Select(key => DeleteIfLiveAsync(key).AsTask()));
        _writer.Integer(deleted.Count(d => d));
    }

    private async ValueTask<bool> DeleteIfLiveAsync(string key)
    {
        using (await LockAsync(key))
        {
            if (await ReadLiveAsync(key) is null)
            {
                return false;
            }
            await DeleteKeyAsync(key);
            return true;
        }
    }

    internal async ValueTask ExistsAsync(byte[][] a)
    {
        var keys = a.Skip(1).Select(Key).ToArray();
        var found = await Task.WhenAll(keys.Select(key => ReadLiveAsync(key).AsTask()));
        _writer.Integer(found.Count(entry => entry is not null));
    }

    internal async ValueTask TypeAsync(byte[][] a) =>
        _writer.SimpleString(await ReadLiveAsync(Key(a[1])) is null ? "none" : "string");

    internal async ValueTask ExpireAsync(byte[][] a, long unitMs, bool absolute)
    {
        var key = Key(a[1]);
        var command = RespCommandTable.Lower(a[0]);
        bool nx = false, xx = false, gt = false, lt = false;
        for (var i = 3; i < a.Length; i++)
        {
            switch (RespText.Upper(a[i]))
            {
                case "NX": nx = true; break;
                case "XX": xx = true; break;
                case "GT": gt = true; break;
                case "LT": lt = true; break;
                default: throw new RespCommandException($"ERR Unsupported option {RespText.Printable(a[i])}");
            }
        }
        if (nx && (xx || gt || lt))
        {
            throw new RespCommandException("ERR NX and XX, GT or LT options at the same time are not compatible");
        }
        if (gt && lt)
        {
            throw new RespCommandException("ERR GT and LT options at the same time are not compatible");
        }
        var at = ExpiryAt(a[2], unitMs, absolute, command);
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            if (current is null)
            {
                _writer.Integer(0);
                return;
            }
            var has = current.ExpiresAtMs != 0;
            // Redis: a key without expiry has an infinite one, so GT never applies to it and LT always does.
            var applies = (!nx || !has) && (!xx || has) && (!gt || (has && at > current.ExpiresAtMs)) && (!lt || !has || at < current.ExpiresAtMs);
            if (!applies)
            {
                _writer.Integer(0);
                return;
            }
            await WriteOrDeleteAsync(key, current.Value, current.ContentType, at);
            _writer.Integer(1);
        }
    }

    internal async ValueTask TtlAsync(byte[][] a, long unitMs, bool absolute)
    {
        var current = await ReadLiveAsync(Key(a[1]));
        if (current is null)
        {
            _writer.Integer(-2);
        }
        else if (current.ExpiresAtMs == 0)
        {
            _writer.Integer(-1);
        }
        else if (absolute)
        {
            _writer.Integer(current.ExpiresAtMs / unitMs);
        }
        else
        {
            var left = Math.Max(0, current.ExpiresAtMs - Node.NowMs());
            // Redis rounds TTL to the nearest second.
            _writer.Integer(unitMs == 1 ? left : (left + 500) / 1000);
        }
    }

    internal async ValueTask PersistAsync(byte[][] a)
    {
        var key = Key(a[1]);
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            if (current is null || current.ExpiresAtMs == 0)
            {
                _writer.Integer(0);
                return;
            }
            await RewriteAsync(current, current.Value, 0);
            _writer.Integer(1);
        }
    }

    internal async ValueTask ScanAsync(byte[][] a)
    {
        if (!ulong.TryParse(Encoding.ASCII.GetString(a[1]), NumberStyles.None, CultureInfo.InvariantCulture, out var cursor))
        {
            throw new RespCommandException("ERR invalid cursor");
        }
        byte[]? pattern = null;
        var count = 10;
        var stringsOnly = true;
        for (var i = 2; i < a.Length; i++)
        {
            var option = RespText.Upper(a[i]);
            if (i + 1 >= a.Length)
            {
                throw new RespCommandException("ERR syntax error");
            }
            switch (option)
            {
                case "MATCH":
                    pattern = a[++i];
                    break;
                case "COUNT":
                    var n = RespText.Integer(a[++i]);
                    if (n < 1)
                    {
                        throw new RespCommandException("ERR syntax error");
                    }
                    count = (int)Math.Min(n, ListPage);
                    break;
                case "TYPE":
                    stringsOnly = RespText.Is(a[++i], "string");
                    break;
                default:
                    throw new RespCommandException("ERR syntax error");
            }
        }
        // The cursor is a ring position: 0 is the start, any other value the token to resume from.
        // Stateless, so it works through any node and survives reconnects.
        var position = cursor == 0 ? ScanPosition.Start : ScanPosition.AtToken(cursor);
        var page = await Node.Service.ListKeysAsync(PrefixOf(pattern), position, count, Aborted);
        var keys = stringsOnly ? page.Keys.Where(key => Matches(pattern, key)).ToList() : [];
        _writer.ArrayHeader(2);
        _writer.Bulk(NextCursor(page.Next).ToString(CultureInfo.InvariantCulture));
        _writer.ArrayHeader(keys.Count);
        foreach (var key in keys)
        {
            _writer.Bulk(key);
        }
    }

    /// <summary>
    /// The cursor for a page's end: the token after the last key returned (keys are in token
    /// order), or the token itself when the page ended before a token. Only two keys whose 64-bit
    /// tokens are exactly equal could straddle a page boundary and have the second skipped.
    /// </summary>
    private static ulong NextCursor(ScanPosition? next) => next switch
    {
        null => 0,
        { Key: null } at => at.Token,
        { } at when at.Token == ulong.MaxValue => 0,
        { } at => at.Token + 1,
    };

    private static string PrefixOf(byte[]? pattern)
    {
        if (pattern is null)
        {
            return string.Empty;
        }
        var literal = GlobPattern.LiteralPrefix(pattern);
        return System.Text.Unicode.Utf8.IsValid(literal) ? Encoding.UTF8.GetString(literal) : string.Empty;
    }

    private static bool Matches(byte[]? pattern, string key) =>
        pattern is null || GlobPattern.MatchesEverything(pattern) || GlobPattern.IsMatch(pattern, Encoding.UTF8.GetBytes(key));

    internal async ValueTask KeysAsync(byte[][] a)
    {
        var pattern = a[1];
        var prefix = PrefixOf(pattern);
        var found = new List<string>();
        var position = ScanPosition.Start;
        while (true)
        {
            var page = await Node.Service.ListKeysAsync(prefix, position, ListPage, Aborted);
            found.AddRange(page.Keys.Where(key => Matches(pattern, key)));
            if (found.Count > MaxKeysReply)
            {
                throw new RespCommandException($"ERR KEYS matched more than {MaxKeysReply} keys; iterate with SCAN 0 MATCH <pattern> instead");
            }
            if (page.Next is not { } next)
            {
                break;
            }
            position = next;
        }
        _writer.ArrayHeader(found.Count);
        foreach (var key in found)
        {
            _writer.Bulk(key);
        }
    }

    internal async ValueTask RandomKeyAsync(byte[][] a)
    {
        _ = a;
        var start = ScanPosition.AtToken((ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue));
        var page = await Node.Service.ListKeysAsync(string.Empty, start, 1, Aborted);
        if (page.Keys.Count == 0)
        {
            // Past the last token: wrap around to the start of the ring.
            page = await Node.Service.ListKeysAsync(string.Empty, ScanPosition.Start, 1, Aborted);
        }
        if (page.Keys.Count == 0)
        {
            _writer.Null();
        }
        else
        {
            _writer.Bulk(page.Keys[0]);
        }
    }

    internal async ValueTask DbSizeAsync(byte[][] a)
    {
        _ = a;
        long count = 0;
        var position = ScanPosition.Start;
        while (true)
        {
            var page = await Node.Service.ListKeysAsync(string.Empty, position, ListPage, Aborted);
            count += page.Keys.Count;
            if (page.Next is not { } next)
            {
                break;
            }
            position = next;
        }
        _writer.Integer(count);
    }

    internal async ValueTask RenameAsync(byte[][] a, bool onlyIfAbsent)
    {
        var source = Key(a[1]);
        var destination = Key(a[2]);
        using (await _server.KeyLocks.AcquireAsync(Core.Hashing.KeyToken.Of(source), Core.Hashing.KeyToken.Of(destination), Aborted))
        {
            var current = await ReadLiveAsync(source) ?? throw new RespCommandException("ERR no such key");
            if (source == destination)
            {
                if (onlyIfAbsent)
                {
                    _writer.Integer(0);
                }
                else
                {
                    _writer.Ok();
                }
                return;
            }
            if (onlyIfAbsent && await ReadLiveAsync(destination) is not null)
            {
                _writer.Integer(0);
                return;
            }
            // The new key first: a failure between the two writes leaves both keys, never neither.
            await WriteEntryAsync(NewEntry(destination, current.Value, current.ContentType, current.ExpiresAtMs));
            await DeleteKeyAsync(source);
            if (onlyIfAbsent)
            {
                _writer.Integer(1);
            }
            else
            {
                _writer.Ok();
            }
        }
    }

    internal async ValueTask CopyAsync(byte[][] a)
    {
        var source = Key(a[1]);
        var destination = Key(a[2]);
        var replace = false;
        for (var i = 3; i < a.Length; i++)
        {
            if (RespText.Is(a[i], "REPLACE"))
            {
                replace = true;
            }
            else if (RespText.Is(a[i], "DB") && i + 1 < a.Length)
            {
                if (RespText.Integer(a[++i]) != 0)
                {
                    throw new RespCommandException("ERR DB index is out of range (RingKV has database 0 only)");
                }
            }
            else
            {
                throw new RespCommandException("ERR syntax error");
            }
        }
        if (source == destination)
        {
            throw new RespCommandException("ERR source and destination objects are the same");
        }
        using (await _server.KeyLocks.AcquireAsync(Core.Hashing.KeyToken.Of(source), Core.Hashing.KeyToken.Of(destination), Aborted))
        {
            var current = await ReadLiveAsync(source);
            if (current is null || (!replace && await ReadLiveAsync(destination) is not null))
            {
                _writer.Integer(0);
                return;
            }
            await WriteEntryAsync(NewEntry(destination, current.Value, current.ContentType, current.ExpiresAtMs));
            _writer.Integer(1);
        }
    }
}
