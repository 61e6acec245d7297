using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace RingKv.Node.Resp;

/// <summary>
/// Writes replies in the connection's protocol version: RESP2, or RESP3 after <c>HELLO 3</c>
/// (typed nulls, maps, doubles and booleans; in RESP2 a map is a flat array and a double a bulk
/// string, as Redis sends them). Writes straight into the connection's output buffer.
/// </summary>
public sealed class RespWriter(IBufferWriter<byte> output)
{
    private const int NumberBytes = 24;

    /// <summary>2 or 3.</summary>
    public int Protocol { get; set; } = 2;

    public void SimpleString(string text)
    {
        Byte((byte)'+');
        Text(text);
        Crlf();
    }

    public void Ok() => Raw("+OK\r\n"u8);

    /// <summary>An error line. <paramref name="message"/> starts with its code (ERR, NOAUTH, WRONGPASS, ...); line breaks are replaced so the frame stays one line.</summary>
    public void Error(string message)
    {
        Byte((byte)'-');
        Text(message.Replace('\r', ' ').Replace('\n', ' '));
        Crlf();
    }

    public void Integer(long value)
    {
        Byte((byte)':');
        Number(value);
        Crlf();
    }

    public void Bulk(ReadOnlySpan<byte> value)
    {
        Byte((byte)'$');
        Number(value.Length);
        Crlf();
        Raw(value);
        Crlf();
    }

    public void Bulk(string value) => Bulk(Encoding.UTF8.GetBytes(value));

    /// <summary>A missing value: <c>$-1</c> in RESP2, <c>_</c> in RESP3.</summary>
    public void Null()
    {
        if (Protocol == 3)
        {
            Raw("_\r\n"u8);
        }
        else
        {
            Raw("$-1\r\n"u8);
        }
    }

    /// <summary>A missing array (e.g. a SET ... GET on an absent key in RESP2 is a null bulk; this is for array replies).</summary>
    public void NullArray()
    {
        if (Protocol == 3)
        {
            Raw("_\r\n"u8);
        }
        else
        {
            Raw("*-1\r\n"u8);
        }
    }

    public void ArrayHeader(int count)
    {
        Byte((byte)'*');
        Number(count);
        Crlf();
    }

    /// <summary>A map of <paramref name="pairs"/> entries: <c>%n</c> in RESP3, an array of 2n in RESP2.</summary>
    public void MapHeader(int pairs)
    {
        if (Protocol == 3)
        {
            Byte((byte)'%');
            Number(pairs);
        }
        else
        {
            Byte((byte)'*');
            Number(pairs * 2L);
        }
        Crlf();
    }

    /// <summary>A set: <c>~n</c> in RESP3, an array in RESP2.</summary>
    public void SetHeader(int count)
    {
        Byte(Protocol == 3 ? (byte)'~' : (byte)'*');
        Number(count);
        Crlf();
    }

    public void Double(double value)
    {
        var text = FormatDouble(value);
        if (Protocol == 3)
        {
            Byte((byte)',');
            Text(text);
            Crlf();
        }
        else
        {
            Bulk(Encoding.ASCII.GetBytes(text));
        }
    }

    public void Boolean(bool value)
    {
        if (Protocol == 3)
        {
            Raw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        }
        else
        {
            Integer(value ? 1 : 0);
        }
    }

    /// <summary>Text meant to be read by people (INFO, CLIENT LIST): a verbatim string in RESP3, a bulk string in RESP2.</summary>
    public void Verbatim(string text)
    {
        if (Protocol != 3)
        {
            Bulk(text);
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(text);
        Byte((byte)'=');
        Number(bytes.Length + 4);
        Crlf();
        Raw("txt:"u8);
        Raw(bytes);
        Crlf();
    }

    /// <summary>Redis's own form for doubles: shortest round-trip digits, <c>inf</c> and <c>-inf</c>.</summary>
    public static string FormatDouble(double value) => value switch
    {
        double.PositiveInfinity => "inf",
        double.NegativeInfinity => "-inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private void Number(long value)
    {
        var span = output.GetSpan(NumberBytes);
        Utf8Formatter.TryFormat(value, span, out var written);
        output.Advance(written);
    }

    private void Byte(byte value)
    {
        output.GetSpan(1)[0] = value;
        output.Advance(1);
    }

    private void Crlf() => Raw("\r\n"u8);

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        output.Advance(bytes.Length);
    }

    private void Text(string text)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }
}
