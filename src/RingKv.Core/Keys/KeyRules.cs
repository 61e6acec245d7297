using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace RingKv.Core.Keys;

/// <summary>
/// What a key may be: 1..max UTF-8 bytes, taken from the request target and percent-decoded
/// exactly once. Keys are opaque (never part of a file path), but some inputs are refused because
/// a proxy or client in front of us would read them differently than we do:
/// <list type="bullet">
/// <item>control characters (U+0000–U+001F, U+007F) and invalid UTF-8;</item>
/// <item>a '%' followed by two hex digits after decoding (double encoding: <c>%252e</c>), since a
/// second decoder somewhere would turn it into another key;</item>
/// <item><c>.</c> and <c>..</c> path segments (split on '/' and '\'), which HTTP stacks normalise away.</item>
/// </list>
/// </summary>
public static class KeyRules
{
    public const int DefaultMaxKeyBytes = 1024;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Percent-decodes a raw request-target segment once and validates the result.</summary>
    public static KeyError TryDecode(ReadOnlySpan<char> raw, int maxKeyBytes, out string key)
    {
        key = string.Empty;
        if (raw.IsEmpty)
        {
            return KeyError.Empty;
        }
        // A raw target is ASCII in practice; any other char is taken as its UTF-8 bytes.
        var rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(raw.Length));
        try
        {
            var length = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                var c = raw[i];
                if (c == '%')
                {
                    if (i + 2 >= raw.Length || !IsHex(raw[i + 1]) || !IsHex(raw[i + 2]))
                    {
                        return KeyError.InvalidPercentEncoding;
                    }
                    rented[length++] = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                    i += 2;
                }
                else if (c < 0x80)
                {
                    rented[length++] = (byte)c;
                }
                else
                {
                    var end = i + 1;
                    if (char.IsHighSurrogate(c) && end < raw.Length)
                    {
                        end++;
                    }
                    if (Utf8.FromUtf16(raw[i..end], rented.AsSpan(length), out _, out var written, replaceInvalidSequences: false) != OperationStatus.Done)
                    {
                        return KeyError.InvalidUtf8;
                    }
                    length += written;
                    i = end - 1;
                }
            }
            return Validate(rented.AsSpan(0, length), maxKeyBytes, out key);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Validates an already-decoded key given as UTF-8 bytes.</summary>
    public static KeyError Validate(ReadOnlySpan<byte> utf8, int maxKeyBytes, out string key)
    {
        key = string.Empty;
        if (utf8.IsEmpty)
        {
            return KeyError.Empty;
        }
        if (utf8.Length > maxKeyBytes)
        {
            return KeyError.TooLong;
        }
        if (!Utf8.IsValid(utf8))
        {
            return KeyError.InvalidUtf8;
        }
        foreach (var b in utf8)
        {
            // Every UTF-8 byte of a multi-byte sequence is >= 0x80, so a byte check finds exactly the C0 controls and DEL.
            if (b < 0x20 || b == 0x7F)
            {
                return KeyError.ControlCharacter;
            }
        }
        for (var i = 0; i + 2 < utf8.Length; i++)
        {
            if (utf8[i] == (byte)'%' && IsHex((char)utf8[i + 1]) && IsHex((char)utf8[i + 2]))
            {
                return KeyError.DoubleEncoded;
            }
        }
        if (HasDotSegment(utf8))
        {
            return KeyError.DotSegment;
        }
        key = StrictUtf8.GetString(utf8);
        return KeyError.None;
    }

    /// <summary>Validates a key given as a .NET string (client side, CLI, internode).</summary>
    public static KeyError Validate(string key, int maxKeyBytes)
    {
        if (key.Length == 0)
        {
            return KeyError.Empty;
        }
        byte[] bytes;
        try
        {
            bytes = StrictUtf8.GetBytes(key);
        }
        catch (EncoderFallbackException)
        {
            return KeyError.InvalidUtf8;
        }
        return Validate(bytes, maxKeyBytes, out _);
    }

    public static string Describe(KeyError error, int maxKeyBytes) => error switch
    {
        KeyError.Empty => "The key is empty. Use a key of 1 to " + maxKeyBytes + " UTF-8 bytes, e.g. /v1/kv/users/42.",
        KeyError.TooLong => "The key is longer than " + maxKeyBytes + " UTF-8 bytes. Use a shorter key, or hash long identifiers.",
        KeyError.InvalidPercentEncoding => "The key has a '%' that is not followed by two hex digits. Percent-encode '%' itself as %25.",
        KeyError.InvalidUtf8 => "The key is not valid UTF-8 once percent-decoded. Send keys as UTF-8, percent-encoded.",
        KeyError.ControlCharacter => "The key contains a control character (U+0000-U+001F or U+007F). Remove it.",
        KeyError.DoubleEncoded => "The key still contains a percent-encoded sequence after decoding once (double encoding, e.g. %252e). Encode the key exactly once.",
        KeyError.DotSegment => "The key has a '.' or '..' segment, which HTTP intermediaries rewrite. Use another name for that segment.",
        _ => "The key is valid.",
    };

    private static bool HasDotSegment(ReadOnlySpan<byte> utf8)
    {
        var start = 0;
        for (var i = 0; i <= utf8.Length; i++)
        {
            if (i == utf8.Length || utf8[i] == (byte)'/' || utf8[i] == (byte)'\\')
            {
                var segment = utf8[start..i];
                if ((segment.Length == 1 && segment[0] == (byte)'.') ||
                    (segment.Length == 2 && segment[0] == (byte)'.' && segment[1] == (byte)'.'))
                {
                    return true;
                }
                start = i + 1;
            }
        }
        return false;
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
