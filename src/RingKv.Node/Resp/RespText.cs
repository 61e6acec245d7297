using System.Buffers.Text;
using System.Globalization;
using System.Text;
using RingKv.Core.Keys;

namespace RingKv.Node.Resp;

/// <summary>Reading arguments: names case-insensitively, numbers exactly as Redis accepts them.</summary>
public static class RespText
{
    /// <summary>Whether <paramref name="argument"/> is <paramref name="upper"/> in any letter case (ASCII).</summary>
    public static bool IsCommand(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> upper)
    {
        if (argument.Length != upper.Length)
        {
            return false;
        }
        for (var i = 0; i < argument.Length; i++)
        {
            if ((argument[i] & 0xDF) != upper[i])
            {
                return false;
            }
        }
        return true;
    }

    public static bool Is(byte[] argument, string upper) => string.Equals(Encoding.UTF8.GetString(argument), upper, StringComparison.OrdinalIgnoreCase);

    public static string Upper(byte[] argument) => Encoding.UTF8.GetString(argument).ToUpperInvariant();

    /// <summary>A 64-bit integer in Redis's strict form: optional minus, digits, no spaces or plus sign.</summary>
    public static bool TryParseInteger(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 20 || text[0] == (byte)'+' || (text.Length > 1 && text[0] == (byte)'0') ||
            (text.Length > 2 && text[0] == (byte)'-' && text[1] == (byte)'0'))
        {
            return false;
        }
        return Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length;
    }

    public static long Integer(byte[] argument, string error = "ERR value is not an integer or out of range") =>
        TryParseInteger(argument, out var value) ? value : throw new RespCommandException(error);

    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 64)
        {
            return false;
        }
        var s = Encoding.ASCII.GetString(text);
        if (s.Length > 0 && (char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1])))
        {
            return false;
        }
        switch (s.ToLowerInvariant())
        {
            case "inf" or "+inf" or "infinity" or "+infinity":
                value = double.PositiveInfinity;
                return true;
            case "-inf" or "-infinity":
                value = double.NegativeInfinity;
                return true;
        }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && !double.IsNaN(value);
    }

    /// <summary>An argument as text for an error message: printable ASCII kept, the rest escaped, long ones cut.</summary>
    public static string Printable(byte[] argument)
    {
        var text = new StringBuilder();
        foreach (var b in argument.AsSpan(0, Math.Min(argument.Length, 128)))
        {
            text.Append(b is >= 0x20 and < 0x7F and not (byte)'\'' ? (char)b : $"\\x{b:x2}");
        }
        return text.ToString();
    }

    /// <summary>Redis's "with args beginning with:" part of an unknown-command error.</summary>
    public static string ArgumentsPreview(byte[][] arguments)
    {
        var text = new StringBuilder();
        foreach (var argument in arguments.Skip(1).Take(8))
        {
            text.Append('\'').Append(Printable(argument)).Append("' ");
        }
        return text.ToString();
    }
}

/// <summary>
/// Keys from RESP arguments: the same rules as the REST API (valid UTF-8, no control characters,
/// at most --max-key-bytes), so every key written over RESP can be read at /v1/kv/{key}.
/// </summary>
public static class RespKeys
{
    public static bool TryDecode(byte[] argument, int maxKeyBytes, out string? key, out string? error)
    {
        var problem = KeyRules.Validate(argument, maxKeyBytes, out var decoded);
        if (problem == KeyError.None)
        {
            key = decoded;
            error = null;
            return true;
        }
        key = null;
        error = "ERR invalid key: " + KeyRules.Describe(problem, maxKeyBytes);
        return false;
    }

    public static string Decode(byte[] argument, int maxKeyBytes) =>
        TryDecode(argument, maxKeyBytes, out var key, out var error) ? key! : throw new RespCommandException(error!);
}
