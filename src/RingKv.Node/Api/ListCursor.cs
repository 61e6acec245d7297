using System.Buffers.Binary;
using System.Buffers.Text;
using RingKv.Storage;

namespace RingKv.Node.Api;

/// <summary>
/// The opaque list cursor: base64url of the position (8-byte big-endian token, then key bytes) of
/// the last entry a page looked at. Clients must treat it as opaque; its layout may change.
/// </summary>
public static class ListCursor
{
    private const int MaxCursorBytes = 8 + 4096;

    public static string Encode(ScanPosition position)
    {
        var key = position.Key ?? [];
        var bytes = new byte[8 + key.Length];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, position.Token);
        key.CopyTo(bytes, 8);
        return Base64Url.EncodeToString(bytes);
    }

    public static bool TryDecode(string text, out ScanPosition position)
    {
        position = ScanPosition.Start;
        if (text.Length == 0 || text.Length > Base64Url.GetEncodedLength(MaxCursorBytes))
        {
            return false;
        }
        if (!Base64Url.IsValid(text))
        {
            return false;
        }
        var bytes = new byte[Base64Url.GetMaxDecodedLength(text.Length)];
        if (!Base64Url.TryDecodeFromChars(text, bytes, out var written) || written < 8)
        {
            return false;
        }
        position = new ScanPosition(BinaryPrimitives.ReadUInt64BigEndian(bytes), bytes[8..written]);
        return true;
    }
}
