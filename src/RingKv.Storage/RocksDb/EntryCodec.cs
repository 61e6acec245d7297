using System.Buffers.Binary;
using System.Text;
using RingKv.Core.Versioning;

namespace RingKv.Storage.RocksDb;

/// <summary>
/// The on-disk layout. Keys: 8-byte big-endian ring token, then the UTF-8 user key, so RocksDB's
/// bytewise order is (token, key) order and a token range is one contiguous iteration.
/// Values: a format byte, the version, flags, expiry, the content type, then the value bytes.
/// </summary>
/// <remarks>
/// The layout is persisted: extend it only behind a new format byte, never reorder. Decoding a
/// value that is not in this format throws <see cref="InvalidDataException"/>, and only that.
/// </remarks>
internal static class EntryCodec
{
    public const int TokenBytes = 8;
    private const byte FormatV1 = 1;
    private const byte FlagDeleted = 1;
    private const int HeaderBytes = 1 + 8 + 4 + 1 + 8 + 2;

    public static byte[] EncodeKey(ulong token, string key)
    {
        var buffer = new byte[TokenBytes + Encoding.UTF8.GetByteCount(key)];
        BinaryPrimitives.WriteUInt64BigEndian(buffer, token);
        Encoding.UTF8.GetBytes(key, buffer.AsSpan(TokenBytes));
        return buffer;
    }

    public static byte[] EncodePosition(ScanPosition position)
    {
        var key = position.Key ?? [];
        var buffer = new byte[TokenBytes + key.Length];
        BinaryPrimitives.WriteUInt64BigEndian(buffer, position.Token);
        key.CopyTo(buffer.AsSpan(TokenBytes));
        return buffer;
    }

    public static ulong DecodeToken(ReadOnlySpan<byte> dbKey) => BinaryPrimitives.ReadUInt64BigEndian(dbKey);

    public static byte[] EncodeValue(StoredEntry entry)
    {
        var contentTypeLength = Encoding.UTF8.GetByteCount(entry.ContentType);
        var buffer = new byte[HeaderBytes + contentTypeLength + entry.Value.Length];
        var span = buffer.AsSpan();
        span[0] = FormatV1;
        BinaryPrimitives.WriteUInt64LittleEndian(span[1..], entry.Version.Timestamp);
        BinaryPrimitives.WriteUInt32LittleEndian(span[9..], entry.Version.NodeId);
        span[13] = entry.Deleted ? FlagDeleted : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(span[14..], entry.ExpiresAtMs);
        BinaryPrimitives.WriteUInt16LittleEndian(span[22..], (ushort)contentTypeLength);
        Encoding.UTF8.GetBytes(entry.ContentType, span[HeaderBytes..]);
        entry.Value.CopyTo(span[(HeaderBytes + contentTypeLength)..]);
        return buffer;
    }

    public static EntryHeader DecodeHeader(ReadOnlySpan<byte> value)
    {
        if (value.Length < HeaderBytes || value[0] != FormatV1)
        {
            throw new InvalidDataException("A stored entry has an unknown format; the data directory was written by another version or is damaged.");
        }
        return new EntryHeader(
            new EntryVersion(BinaryPrimitives.ReadUInt64LittleEndian(value[1..]), BinaryPrimitives.ReadUInt32LittleEndian(value[9..])),
            (value[13] & FlagDeleted) != 0,
            BinaryPrimitives.ReadInt64LittleEndian(value[14..]));
    }

    public static StoredEntry DecodeValue(string key, ulong token, ReadOnlySpan<byte> value)
    {
        if (value.Length < HeaderBytes || value[0] != FormatV1)
        {
            throw new InvalidDataException($"Stored entry for token {token:x16} has an unknown format; the data directory was written by another version or is damaged.");
        }
        var version = new EntryVersion(
            BinaryPrimitives.ReadUInt64LittleEndian(value[1..]),
            BinaryPrimitives.ReadUInt32LittleEndian(value[9..]));
        var deleted = (value[13] & FlagDeleted) != 0;
        var expiresAtMs = BinaryPrimitives.ReadInt64LittleEndian(value[14..]);
        var contentTypeLength = BinaryPrimitives.ReadUInt16LittleEndian(value[22..]);
        if (HeaderBytes + contentTypeLength > value.Length)
        {
            // A damaged value must fail as damaged data, never as an out-of-range slice.
            throw new InvalidDataException($"Stored entry for token {token:x16} is cut short (its content type runs past its end); the data directory is damaged.");
        }
        var contentType = ContentTypes.Intern(value.Slice(HeaderBytes, contentTypeLength));
        var bytes = value[(HeaderBytes + contentTypeLength)..].ToArray();
        return new StoredEntry(key, token, bytes, contentType, version, deleted, expiresAtMs);
    }
}

/// <summary>The part of a stored entry that decides a write: its version, whether it is a tombstone, when it expires.</summary>
internal readonly record struct EntryHeader(EntryVersion Version, bool Deleted, long ExpiresAtMs)
{
    public bool IsLive(long nowMs) => !Deleted && (ExpiresAtMs == 0 || ExpiresAtMs > nowMs);

    public static EntryHeader Of(StoredEntry entry) => new(entry.Version, entry.Deleted, entry.ExpiresAtMs);
}
