using System.Runtime.InteropServices;
using Google.Protobuf;
using RingKv.Core.Hashing;
using RingKv.Core.Versioning;
using RingKv.Node.Internode.Protocol;
using RingKv.Storage;

namespace RingKv.Node.Internode.Grpc;

/// <summary>Converts between stored entries and their wire form.</summary>
public static class EntryMessages
{
    public static Entry ToMessage(this StoredEntry entry) => new()
    {
        Key = entry.Key,
        // UnsafeWrap: entries are immutable, so sharing the byte array with the message is safe and saves a copy per replica.
        Value = UnsafeByteOperations.UnsafeWrap(entry.Value),
        ContentType = entry.ContentType,
        Timestamp = entry.Version.Timestamp,
        Writer = entry.Version.NodeId,
        Deleted = entry.Deleted,
        ExpiresAtMs = entry.ExpiresAtMs,
    };

    /// <summary>
    /// Null when the message is not a valid entry: a peer is never trusted to send a valid key, a
    /// value within the limit, or a content type that can go back into a response header (no
    /// control characters: a CR/LF there would break every later GET of the key).
    /// </summary>
    /// <summary>
    /// The value's bytes as an array of their own. A parsed message already holds a fresh copy, and
    /// the entry takes that array rather than a second copy (a 1 MiB value was copied twice on every
    /// replica); entries are immutable, so sharing it is safe.
    /// </summary>
    private static byte[] OwnBytes(ByteString value) =>
        MemoryMarshal.TryGetArray(value.Memory, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : value.ToByteArray();

    public static StoredEntry? ToEntry(this Entry message, int maxKeyBytes, int maxValueBytes)
    {
        if (Core.Keys.KeyRules.Validate(message.Key, maxKeyBytes) != Core.Keys.KeyError.None ||
            message.Value.Length > maxValueBytes || message.ContentType.Length is 0 or > 255 || Api.ControlCharacters.In(message.ContentType))
        {
            return null;
        }
        return new StoredEntry(
            message.Key,
            KeyToken.Of(message.Key),
            OwnBytes(message.Value),
            message.ContentType,
            new EntryVersion(message.Timestamp, message.Writer),
            message.Deleted,
            message.ExpiresAtMs);
    }
}
