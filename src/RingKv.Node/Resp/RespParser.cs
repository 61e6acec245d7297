using System.Buffers;
using System.Buffers.Text;

namespace RingKv.Node.Resp;

/// <summary>What one frame may hold. Every bound is checked from a length header, before the bytes it announces are waited for.</summary>
/// <param name="MaxArguments">Arguments of one command (Redis allows far more; a key-value command never needs them).</param>
/// <param name="MaxBulkBytes">One argument: the value limit (<c>--max-value-bytes</c>), so a larger value is refused before it is buffered.</param>
/// <param name="MaxCommandBytes">All arguments of one command together (MSET of many values).</param>
/// <param name="MaxInlineBytes">An inline command line (telnet-style, without the array framing).</param>
public readonly record struct RespLimits(int MaxArguments, int MaxBulkBytes, long MaxCommandBytes, int MaxInlineBytes)
{
    public const int DefaultMaxArguments = 4096;
    public const int DefaultMaxInlineBytes = 64 * 1024;

    public static RespLimits For(int maxValueBytes, int maxKeyBytes)
    {
        var bulk = Math.Max(maxValueBytes, maxKeyBytes);
        return new RespLimits(DefaultMaxArguments, bulk, Math.Max(16L * 1024 * 1024, bulk + (1L * 1024 * 1024)), DefaultMaxInlineBytes);
    }
}

public enum RespParseStatus
{
    /// <summary>A whole command was read; the buffer is consumed up to its end.</summary>
    Complete,

    /// <summary>The frame is not complete yet: read more and try again from the same start.</summary>
    Incomplete,

    /// <summary>
    /// The stream cannot be trusted past this point (a length that lies, a nested array, a limit
    /// passed): answer the error and close the connection, as Redis does for protocol errors.
    /// </summary>
    Invalid,
}

/// <summary>
/// Reads client commands in RESP: an array of bulk strings (<c>*2\r\n$3\r\nGET\r\n$1\r\nk\r\n</c>),
/// or an inline command line (<c>GET k\r\n</c>). Pure: no I/O and no cluster logic, so it is fuzzed
/// on its own. Lengths are parsed from the buffer in place; only the arguments are copied out (a
/// command outlives the network buffer it came from, since pipelined commands run concurrently).
/// </summary>
public static class RespParser
{
    /// <summary>The longest length header we read: a sign and 19 digits, then CRLF.</summary>
    private const int MaxLengthLine = 22;

    public static RespParseStatus TryParse(ref ReadOnlySequence<byte> buffer, in RespLimits limits, out byte[][] arguments, out string? error)
    {
        arguments = [];
        error = null;
        if (buffer.IsEmpty)
        {
            return RespParseStatus.Incomplete;
        }
        var reader = new SequenceReader<byte>(buffer);
        reader.TryPeek(out var first);
        var status = first == (byte)'*'
            ? TryParseArray(ref reader, limits, out arguments, out error)
            : TryParseInline(ref reader, limits, out arguments, out error);
        if (status == RespParseStatus.Complete)
        {
            buffer = buffer.Slice(reader.Position);
        }
        return status;
    }

    private static RespParseStatus TryParseArray(ref SequenceReader<byte> reader, in RespLimits limits, out byte[][] arguments, out string? error)
    {
        arguments = [];
        reader.Advance(1);
        var header = TryReadLength(ref reader, out var count, out error, "multibulk");
        if (header != RespParseStatus.Complete)
        {
            return header;
        }
        if (count > limits.MaxArguments)
        {
            error = $"Protocol error: invalid multibulk length (at most {limits.MaxArguments} arguments)";
            return RespParseStatus.Invalid;
        }
        if (count <= 0)
        {
            // Redis ignores *0 and *-1: an empty command.
            return RespParseStatus.Complete;
        }
        var parsed = new byte[count][];
        long total = 0;
        for (var i = 0; i < count; i++)
        {
            if (!reader.TryPeek(out var marker))
            {
                return RespParseStatus.Incomplete;
            }
            if (marker != (byte)'$')
            {
                // Nested arrays and other types are never part of a client command.
                error = $"Protocol error: expected '$', got '{Printable(marker)}'";
                return RespParseStatus.Invalid;
            }
            reader.Advance(1);
            var length = TryReadLength(ref reader, out var bytes, out error, "bulk");
            if (length != RespParseStatus.Complete)
            {
                return length;
            }
            if (bytes < 0 || bytes > limits.MaxBulkBytes)
            {
                error = bytes < 0
                    ? "Protocol error: invalid bulk length"
                    : $"Protocol error: invalid bulk length ({bytes} bytes; this node takes values of at most {limits.MaxBulkBytes} bytes, --max-value-bytes)";
                return RespParseStatus.Invalid;
            }
            total += bytes;
            if (total > limits.MaxCommandBytes)
            {
                error = $"Protocol error: command too large (at most {limits.MaxCommandBytes} bytes of arguments)";
                return RespParseStatus.Invalid;
            }
            if (reader.Remaining < bytes + 2)
            {
                return RespParseStatus.Incomplete;
            }
            var argument = new byte[bytes];
            reader.TryCopyTo(argument);
            reader.Advance(bytes);
            if (!reader.IsNext("\r\n"u8, advancePast: true))
            {
                // The bytes after the announced length are not CRLF: the length lied.
                error = "Protocol error: bulk string does not end where its length says";
                return RespParseStatus.Invalid;
            }
            parsed[i] = argument;
        }
        arguments = parsed;
        return RespParseStatus.Complete;
    }

    private static RespParseStatus TryReadLength(ref SequenceReader<byte> reader, out long value, out string? error, string what)
    {
        value = 0;
        error = null;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            if (reader.Remaining > MaxLengthLine)
            {
                error = $"Protocol error: invalid {what} length";
                return RespParseStatus.Invalid;
            }
            return RespParseStatus.Incomplete;
        }
        Span<byte> digits = stackalloc byte[MaxLengthLine];
        if (line.Length < 2 || line.Length > MaxLengthLine)
        {
            error = $"Protocol error: invalid {what} length";
            return RespParseStatus.Invalid;
        }
        line.CopyTo(digits);
        var text = digits[..(int)line.Length];
        if (text[^1] != (byte)'\r' || !Utf8Parser.TryParse(text[..^1], out value, out var consumed) || consumed != text.Length - 1 ||
            (text[0] == (byte)'+'))
        {
            error = $"Protocol error: invalid {what} length";
            return RespParseStatus.Invalid;
        }
        return RespParseStatus.Complete;
    }

    private static RespParseStatus TryParseInline(ref SequenceReader<byte> reader, in RespLimits limits, out byte[][] arguments, out string? error)
    {
        arguments = [];
        error = null;
        if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n', advancePastDelimiter: true))
        {
            if (reader.Remaining > limits.MaxInlineBytes)
            {
                error = "Protocol error: too big inline request";
                return RespParseStatus.Invalid;
            }
            return RespParseStatus.Incomplete;
        }
        if (line.Length > limits.MaxInlineBytes)
        {
            error = "Protocol error: too big inline request";
            return RespParseStatus.Invalid;
        }
        var bytes = line.ToArray().AsSpan();
        if (bytes.Length > 0 && bytes[^1] == (byte)'\r')
        {
            bytes = bytes[..^1];
        }
        if (!InlineArguments.TrySplit(bytes, limits.MaxArguments, out var split))
        {
            error = "Protocol error: unbalanced quotes in request";
            return RespParseStatus.Invalid;
        }
        arguments = split;
        return RespParseStatus.Complete;
    }

    private static string Printable(byte b) => b is >= 0x20 and < 0x7F ? ((char)b).ToString() : $"\\x{b:x2}";
}
