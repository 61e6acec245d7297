using System.Text;

namespace RingKv.Client;

/// <summary>
/// Turns a key into the path after <c>/v1/kv/</c>. Every UTF-8 byte outside the unreserved set is
/// percent-encoded exactly once, except '/', which stays literal so <c>users/42/profile</c> reads
/// naturally in logs; the server takes both forms as the same key.
/// </summary>
internal static class KeyPath
{
    public static string Encode(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var builder = new StringBuilder(key.Length + 16);
        var start = 0;
        while (true)
        {
            var slash = key.IndexOf('/', start);
            var segment = slash < 0 ? key[start..] : key[start..slash];
            // EscapeDataString encodes per UTF-8 byte and leaves only RFC 3986 unreserved characters.
            builder.Append(Uri.EscapeDataString(segment));
            if (slash < 0)
            {
                return builder.ToString();
            }
            builder.Append('/');
            start = slash + 1;
        }
    }
}
