using System.Globalization;
using System.Text;
using RingKv.Storage;

namespace RingKv.Node.Resp;

// String commands. A plain SET, GET, MGET and MSET go straight to the quorum. Commands that read
// before they write (SET with NX, XX, GET or KEEPTTL, GETSET, GETDEL, APPEND, SETRANGE, INCR and
// friends) hold the key's lock on this node for the read and the write: through one node they
// never interleave; through two nodes at once the later write wins (docs/RESP.md).
public sealed partial class RespConnection
{
    internal async ValueTask GetAsync(byte[][] a)
    {
        var entry = await Node.Service.GetAsync(Key(a[1]), ReadQuorum, Aborted);
        WriteValueOrNull(entry);
    }

    internal async ValueTask SetAsync(byte[][] a)
    {
        var key = Key(a[1]);
        var value = a[2];
        bool nx = false, xx = false, get = false, keepTtl = false;
        long? expiresAt = null;
        for (var i = 3; i < a.Length; i++)
        {
            var option = RespText.Upper(a[i]);
            switch (option)
            {
                case "NX" when !xx:
                    nx = true;
                    break;
                case "XX" when !nx:
                    xx = true;
                    break;
                case "GET":
                    get = true;
                    break;
                case "KEEPTTL" when expiresAt is null:
                    keepTtl = true;
                    break;
                case "EX" or "PX" or "EXAT" or "PXAT" when expiresAt is null && !keepTtl && i + 1 < a.Length:
                    expiresAt = ExpiryOption(option, a[++i], "set");
                    break;
                default:
                    throw new RespCommandException("ERR syntax error");
            }
        }
        if (!nx && !xx && !get && !keepTtl)
        {
            await WriteOrDeleteAsync(key, value, StoredEntry.DefaultContentType, expiresAt ?? 0);
            _writer.Ok();
            return;
        }
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            var write = nx ? current is null : !xx || current is not null;
            if (write)
            {
                await WriteOrDeleteAsync(key, value, StoredEntry.DefaultContentType, keepTtl ? current?.ExpiresAtMs ?? 0 : expiresAt ?? 0);
            }
            if (get)
            {
                WriteValueOrNull(current);
            }
            else if (write)
            {
                _writer.Ok();
            }
            else
            {
                _writer.Null();
            }
        }
    }

    /// <summary>
    /// The EX, PX, EXAT or PXAT option of SET and GETEX (and SETEX, PSETEX): an amount that must be
    /// a positive integer, as Redis requires, in Unix milliseconds.
    /// </summary>
    private long ExpiryOption(string option, byte[] argument, string command)
    {
        if (!RespText.TryParseInteger(argument, out var amount))
        {
            throw new RespCommandException("ERR value is not an integer or out of range");
        }
        if (amount <= 0)
        {
            throw new RespCommandException($"ERR invalid expire time in '{command}' command");
        }
        return option switch
        {
            "EX" => ExpiryAt(argument, 1000, absolute: false, command),
            "PX" => ExpiryAt(argument, 1, absolute: false, command),
            "EXAT" => ExpiryAt(argument, 1000, absolute: true, command),
            _ => ExpiryAt(argument, 1, absolute: true, command),
        };
    }

    /// <summary>A write whose expiry is already past is a delete: what a reader would see either way, without storing a value nobody can read.</summary>
    private ValueTask WriteOrDeleteAsync(string key, byte[] value, string contentType, long expiresAtMs) =>
        expiresAtMs != 0 && expiresAtMs <= Node.NowMs()
            ? DeleteKeyAsync(key)
            : WriteEntryAsync(NewEntry(key, value, contentType, expiresAtMs));

    internal async ValueTask SetNxAsync(byte[][] a)
    {
        var key = Key(a[1]);
        using (await LockAsync(key))
        {
            _writer.Integer(await WriteIfAbsentAsync(NewEntry(key, a[2], StoredEntry.DefaultContentType, 0)) ? 1 : 0);
        }
    }

    internal async ValueTask SetExAsync(byte[][] a, long unitMs)
    {
        var key = Key(a[1]);
        var expiresAt = ExpiryOption(unitMs == 1 ? "PX" : "EX", a[2], unitMs == 1 ? "psetex" : "setex");
        await WriteEntryAsync(NewEntry(key, a[3], StoredEntry.DefaultContentType, expiresAt));
        _writer.Ok();
    }

    internal async ValueTask GetSetAsync(byte[][] a)
    {
        var key = Key(a[1]);
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            await WriteEntryAsync(NewEntry(key, a[2], StoredEntry.DefaultContentType, 0));
            WriteValueOrNull(current);
        }
    }

    internal async ValueTask GetDelAsync(byte[][] a)
    {
        var key = Key(a[1]);
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            if (current is not null)
            {
                await DeleteKeyAsync(key);
            }
            WriteValueOrNull(current);
        }
    }

    internal async ValueTask GetExAsync(byte[][] a)
    {
        var key = Key(a[1]);
        if (a.Length == 2)
        {
            WriteValueOrNull(await ReadLiveAsync(key));
            return;
        }
        var option = RespText.Upper(a[2]);
        long expiresAt;
        if (option == "PERSIST" && a.Length == 3)
        {
            expiresAt = 0;
        }
        else if (option is "EX" or "PX" or "EXAT" or "PXAT" && a.Length == 4)
        {
            expiresAt = ExpiryOption(option, a[3], "getex");
        }
        else
        {
            throw new RespCommandException("ERR syntax error");
        }
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            if (current is not null && current.ExpiresAtMs != expiresAt)
            {
                await WriteOrDeleteAsync(key, current.Value, current.ContentType, expiresAt);
            }
            WriteValueOrNull(current);
        }
    }

    internal async ValueTask MGetAsync(byte[][] a)
    {
        var keys = a.Skip(1).Select(Key).ToArray();
        var reads = keys.Select(key => Node.Service.GetAsync(key, ReadQuorum, Aborted).AsTask()).ToArray();
        await Task.WhenAll(reads);
        _writer.ArrayHeader(keys.Length);
        foreach (var read in reads)
        {
            WriteValueOrNull(read.Result);
        }
    }

    internal async ValueTask MSetAsync(byte[][] a)
    {
        if ((a.Length - 1) % 2 != 0)
        {
            throw new RespCommandException("ERR wrong number of arguments for 'mset' command");
        }
        var entries = new List<StoredEntry>();
        for (var i = 1; i < a.Length; i += 2)
        {
            entries.Add(NewEntry(Key(a[i]), a[i + 1], StoredEntry.DefaultContentType, 0));
        }
        await Task.WhenAll(entries.Select(entry => WriteEntryAsync(entry).AsTask()));
        _writer.Ok();
    }

    internal async ValueTask MSetNxAsync(byte[][] a)
    {
        if ((a.Length - 1) % 2 != 0)
        {
            throw new RespCommandException("ERR wrong number of arguments for 'msetnx' command");
        }
        var pairs = new List<(string Key, byte[] Value)>();
        for (var i = 1; i < a.Length; i += 2)
        {
            pairs.Add((Key(a[i]), a[i + 1]));
        }
        var existing = await Task.WhenAll(pairs.Select(pair => ReadLiveAsync(pair.Key).AsTask()));
        if (existing.Any(entry => entry is not null))
        {
            _writer.Integer(0);
            return;
        }
        await Task.WhenAll(pairs.Select(pair => WriteEntryAsync(NewEntry(pair.Key, pair.Value, StoredEntry.DefaultContentType, 0)).AsTask()));
        _writer.Integer(1);
    }

    internal async ValueTask AppendAsync(byte[][] a)
    {
        var key = Key(a[1]);
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            var old = current?.Value ?? [];
            CheckValueSize((long)old.Length + a[2].Length);
            var value = new byte[old.Length + a[2].Length];
            old.CopyTo(value, 0);
            a[2].CopyTo(value, old.Length);
            await WriteEntryAsync(NewEntry(key, value, current?.ContentType ?? StoredEntry.DefaultContentType, current?.ExpiresAtMs ?? 0));
            _writer.Integer(value.Length);
        }
    }

    internal async ValueTask StrLenAsync(byte[][] a)
    {
        var current = await ReadLiveAsync(Key(a[1]));
        _writer.Integer(current?.Value.Length ?? 0);
    }

    internal async ValueTask GetRangeAsync(byte[][] a)
    {
        var key = Key(a[1]);
        var start = RespText.Integer(a[2]);
        var end = RespText.Integer(a[3]);
        var value = (await ReadLiveAsync(key))?.Value ?? [];
        long length = value.Length;
        if (start < 0)
        {
            start = Math.Max(0, length + start);
        }
        if (end < 0)
        {
            end = length + end;
        }
        end = Math.Min(end, length - 1);
        if (length == 0 || start > end || end < 0)
        {
            _writer.Bulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        _writer.Bulk(value.AsSpan((int)start, (int)(end - start + 1)));
    }

    internal async ValueTask SetRangeAsync(byte[][] a)
    {
        var key = Key(a[1]);
        var offset = RespText.Integer(a[2]);
        if (offset < 0)
        {
            throw new RespCommandException("ERR offset is out of range");
        }
        var patch = a[3];
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            var old = current?.Value ?? [];
            if (patch.Length == 0)
            {
                _writer.Integer(old.Length);
                return;
            }
            var length = Math.Max(old.Length, offset + patch.Length);
            CheckValueSize(length);
            var value = new byte[length];
            old.CopyTo(value, 0);
            patch.CopyTo(value, (int)offset);
            await WriteEntryAsync(NewEntry(key, value, current?.ContentType ?? StoredEntry.DefaultContentType, current?.ExpiresAtMs ?? 0));
            _writer.Integer(value.Length);
        }
    }

    internal async ValueTask IncrByAsync(byte[][] a, long sign, bool hasArgument)
    {
        var key = Key(a[1]);
        var delta = hasArgument ? RespText.Integer(a[2]) : 1;
        if (sign < 0)
        {
            if (delta == long.MinValue)
            {
                throw new RespCommandException("ERR decrement would overflow");
            }
            delta = -delta;
        }
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            long value = 0;
            if (current is not null && !RespText.TryParseInteger(current.Value, out value))
            {
                throw new RespCommandException("ERR value is not an integer or out of range");
            }
            long next;
            try
            {
                next = checked(value + delta);
            }
            catch (OverflowException)
            {
                throw new RespCommandException("ERR increment or decrement would overflow");
            }
            await WriteEntryAsync(NewEntry(key, Encoding.ASCII.GetBytes(next.ToString(CultureInfo.InvariantCulture)),
                current?.ContentType ?? StoredEntry.DefaultContentType, current?.ExpiresAtMs ?? 0));
            _writer.Integer(next);
        }
    }

    internal async ValueTask IncrByFloatAsync(byte[][] a)
    {
        var key = Key(a[1]);
        if (!RespText.TryParseDouble(a[2], out var delta))
        {
            throw new RespCommandException("ERR value is not a valid float");
        }
        using (await LockAsync(key))
        {
            var current = await ReadLiveAsync(key);
            double value = 0;
            if (current is not null && !RespText.TryParseDouble(current.Value, out value))
            {
                throw new RespCommandException("ERR value is not a valid float");
            }
            var next = value + delta;
            if (double.IsNaN(next) || double.IsInfinity(next))
            {
                throw new RespCommandException("ERR increment would produce NaN or Infinity");
            }
            var text = RespWriter.FormatDouble(next);
            await WriteEntryAsync(NewEntry(key, Encoding.ASCII.GetBytes(text), current?.ContentType ?? StoredEntry.DefaultContentType, current?.ExpiresAtMs ?? 0));
            _writer.Bulk(text);
        }
    }
}
