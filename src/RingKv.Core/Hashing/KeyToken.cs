using System.IO.Hashing;
using System.Text;

namespace RingKv.Core.Hashing;

/// <summary>
/// The ring token of a key: XxHash64 of its UTF-8 bytes with seed 0. Stable across processes,
/// machines and releases: tokens are persisted in the storage layout and the cluster map, so this
/// function must never change.
/// </summary>
public static class KeyToken
{
    public static ulong Of(ReadOnlySpan<byte> utf8Key) => XxHash64.HashToUInt64(utf8Key);

    public static ulong Of(string key)
    {
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        if (max <= 512)
        {
            Span<byte> buffer = stackalloc byte[max];
            var written = Encoding.UTF8.GetBytes(key, buffer);
            return Of(buffer[..written]);
        }
        return Of(Encoding.UTF8.GetBytes(key));
    }
}
