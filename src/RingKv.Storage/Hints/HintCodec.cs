using System.Buffers.Binary;
using System.Text;
using RingKv.Storage.RocksDb;

namespace RingKv.Storage.Hints;

/// <summary>
/// The hint store's layout. Keys: the owner id in UTF-8, a 0x00 byte, then the 8-byte big-endian
/// sequence, so bytewise order groups hints by owner and, within an owner, by arrival. Owner ids
/// never contain NUL, so the 0x00 ends the prefix and <c>n1</c> never reads <c>n10</c>'s hints.
/// Values: a format byte, the creation time (Unix ms), the length of the encoded entry key, the
/// entry key as <see cref="EntryCodec.EncodeKey"/> writes it, then the entry as <see cref="EntryCodec.EncodeValue"/> writes it.
/// Keys starting with 0x00 (an empty owner, which is refused) are the store's own metadata.
/// </summary>
/// <remarks>The layout is persisted: extend it only behind a new format byte, never reorder.</remarks>
internal static class HintCodec
{
    public const int SequenceBytes = 8;
    private const byte Separator = 0x00;
    private const byte FormatV1 = 1;
    private const int ValueHeaderBytes = 1 + 8 + 4;

    /// <summary>The next sequence to assign, written with every batch of hints so a sequence is never reused, even after every hint was removed and the store reopened.</summary>
    public static readonly byte[] NextSequenceKey = [Separator, .. "next-sequence"u8];

    public static void ValidateOwner(string ownerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(ownerId);
        if (ownerId.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Owner id '{ownerId.Replace("\0", "\\0", StringComparison.Ordinal)}' contains a NUL character; node ids never do.", nameof(ownerId));
        }
    }

    /// <summary>The owner id and its 0x00: every key of that owner starts with it.</summary>
    public static byte[] EncodePrefix(string ownerId)
    {
        var prefix = new byte[Encoding.UTF8.GetByteCount(ownerId) + 1];
        Encoding.UTF8.GetBytes(ownerId, prefix);
        prefix[^1] = Separator;
        return prefix;
    }

    public static byte[] EncodeKey(ReadOnlySpan<byte> prefix, long sequence)
    {
        var key = new byte[prefix.Length + SequenceBytes];
        prefix.CopyTo(key);
        BinaryPrimitives.WriteInt64BigEndian(key.AsSpan(prefix.Length), sequence);
        return key;
    }

    public static byte[] EncodeKey(string ownerId, long sequence) => EncodeKey(EncodePrefix(ownerId), sequence);

    /// <summary>Whether <paramref name="key"/> is shaped like a hint key: a non-empty owner, 0x00, a sequence.</summary>
    public static bool IsHintKey(ReadOnlySpan<byte> key) =>
        key.Length >= 2 + SequenceBytes && key[0] != Separator && key[^(SequenceBytes + 1)] == Separator;

    /// <summary>The owner part of a hint key, without its 0x00.</summary>
    public static ReadOnlySpan<byte> OwnerOf(ReadOnlySpan<byte> key) => key[..^(SequenceBytes + 1)];

    public static long SequenceOf(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadInt64BigEndian(key[^SequenceBytes..]);

    public static byte[] EncodeSequence(long sequence)
    {
        var bytes = new byte[SequenceBytes];
        BinaryPrimitives.WriteInt64BigEndian(bytes, sequence);
        return bytes;
    }

    public static long DecodeSequence(ReadOnlySpan<byte> bytes) => BinaryPrimitives.ReadInt64BigEndian(bytes);

    public static byte[] EncodeValue(StoredEntry entry, long createdAtMs)
    {
        var entryKey = EntryCodec.EncodeKey(entry.Token, entry.Key);
        var entryValue = EntryCodec.EncodeValue(entry);
        var buffer = new byte[ValueHeaderBytes + entryKey.Length + entryValue.Length];
        var span = buffer.AsSpan();
        span[0] = FormatV1;
        BinaryPrimitives.WriteInt64LittleEndian(span[1..], createdAtMs);
        BinaryPrimitives.WriteInt32LittleEndian(span[9..], entryKey.Length);
        entryKey.CopyTo(span[ValueHeaderBytes..]);
        entryValue.CopyTo(span[(ValueHeaderBytes + entryKey.Length)..]);
        return buffer;
    }

    /// <summary>The creation time alone: enough to decide expiry without decoding the entry.</summary>
    public static long CreatedAtMsOf(ReadOnlySpan<byte> value)
    {
        CheckFormat(value);
        return BinaryPrimitives.ReadInt64LittleEndian(value[1..]);
    }

    public static StoredEntry DecodeEntry(ReadOnlySpan<byte> value)
    {
        CheckFormat(value);
        var entryKeyLength = BinaryPrimitives.ReadInt32LittleEndian(value[9..]);
        if (entryKeyLength < EntryCodec.TokenBytes || entryKeyLength > value.Length - ValueHeaderBytes)
        {
            throw Damaged();
        }
        var entryKey = value.Slice(ValueHeaderBytes, entryKeyLength);
        var token = EntryCodec.DecodeToken(entryKey);
        var key = Encoding.UTF8.GetString(entryKey[EntryCodec.TokenBytes..]);
        return EntryCodec.DecodeValue(key, token, value[(ValueHeaderBytes + entryKeyLength)..]);
    }

    private static void CheckFormat(ReadOnlySpan<byte> value)
    {
        if (value.Length < ValueHeaderBytes || value[0] != FormatV1)
        {
            throw Damaged();
        }
    }

    private static InvalidDataException Damaged() =>
        new("A stored hint has an unknown format; the hint directory was written by another version or is damaged. Move it aside to start with no hints: anti-entropy repairs what they carried.");
}
