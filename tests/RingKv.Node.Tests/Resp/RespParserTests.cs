using System.Buffers;
using System.Text;
using CsCheck;
using RingKv.Node.Resp;

namespace RingKv.Node.Tests.Resp;

public sealed class RespParserTests
{
    private static readonly RespLimits Limits = RespLimits.For(maxValueBytes: 1024, maxKeyBytes: 64);

    private static (RespParseStatus Status, byte[][] Arguments, string? Error, long Consumed) Parse(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        var status = RespParser.TryParse(ref buffer, Limits, out var arguments, out var error);
        return (status, arguments, error, bytes.Length - buffer.Length);
    }

    private static byte[] Encode(params byte[][] arguments)
    {
        var text = new MemoryStream();
        text.Write(Encoding.ASCII.GetBytes($"*{arguments.Length}\r\n"));
        foreach (var argument in arguments)
        {
            text.Write(Encoding.ASCII.GetBytes($"${argument.Length}\r\n"));
            text.Write(argument);
            text.Write("\r\n"u8);
        }
        return text.ToArray();
    }

    private static byte[] B(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void ReadsAnArrayOfBulkStringsAndConsumesExactlyIt()
    {
        var frame = Encode(B("SET"), B("k"), B("v\r\nwith crlf"));
        var (status, arguments, _, consumed) = Parse([.. frame, .. "*1\r\n"u8]);
        Assert.Equal(RespParseStatus.Complete, status);
        Assert.Equal(["SET", "k", "v\r\nwith crlf"], arguments.Select(Encoding.UTF8.GetString));
        Assert.Equal(frame.Length, consumed);
    }

    [Fact]
    public void AFrameCutAnywhereIsIncompleteUntilItsLastByte()
    {
        var frame = Encode(B("GET"), B("key"));
        for (var cut = 0; cut < frame.Length; cut++)
        {
            Assert.Equal(RespParseStatus.Incomplete, Parse(frame[..cut]).Status);
        }
        Assert.Equal(RespParseStatus.Complete, Parse(frame).Status);
    }

    [Theory]
    [InlineData("*1\r\n*1\r\n$1\r\na\r\n", "expected '$'")]
    [InlineData("*1\r\n:1\r\n", "expected '$'")]
    [InlineData("*1\r\n$-1\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$abc\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$3\r\nabcde\r\n", "does not end where its length says")]
    [InlineData("*x\r\n", "invalid multibulk length")]
    [InlineData("*99999999\r\n", "invalid multibulk length")]
    [InlineData("*1\r\n$1\nab", "invalid bulk length")]
    public void AFrameThatCannotBeTrustedIsInvalid(string frame, string expected)
    {
        var (status, _, error, _) = Parse(B(frame));
        Assert.Equal(RespParseStatus.Invalid, status);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void AValueOverTheLimitIsRefusedFromItsLengthBeforeItsBytesArrive()
    {
        // Only the header has arrived: the refusal must not wait for (or buffer) the 2000 bytes.
        var (status, _, error, _) = Parse(B("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000\r\n"));
        Assert.Equal(RespParseStatus.Invalid, status);
        Assert.Contains("--max-value-bytes", error);
    }

    [Fact]
    public void ALengthLineThatNeverEndsIsInvalidOnceLongerThanAnyNumber()
    {
        Assert.Equal(RespParseStatus.Incomplete, Parse(B("*1\r\n$12345")).Status);
        Assert.Equal(RespParseStatus.Invalid, Parse(B("*1\r\n$1234567890123456789012345")).Status);
    }

    [Fact]
    public void AnInlineCommandIsSplitLikeRedis()
    {
        var (status, arguments, _, _) = Parse(B("set  \"a b\\x41\\n\" 'it\\'s'\r\n"));
        Assert.Equal(RespParseStatus.Complete, status);
        Assert.Equal(["set", "a bA\n", "it's"], arguments.Select(Encoding.UTF8.GetString));
    }

    [Fact]
    public void AnInlineLinePastTheLimitIsInvalidEvenWithoutItsEnd()
    {
        var line = new byte[Limits.MaxInlineBytes + 1];
        Array.Fill(line, (byte)'a');
        Assert.Equal(RespParseStatus.Invalid, Parse(line).Status);
        Assert.Equal(RespParseStatus.Invalid, Parse(B("get \"unbalanced\r\n")).Status);
    }

    [Fact]
    public void EmptyArraysAndBlankLinesAreEmptyCommands()
    {
        Assert.Equal((RespParseStatus.Complete, 0), (Parse(B("*0\r\n")).Status, Parse(B("*0\r\n")).Arguments.Length));
        Assert.Equal((RespParseStatus.Complete, 0), (Parse(B("\r\n")).Status, Parse(B("\r\n")).Arguments.Length));
    }

    [Fact]
    public void AnyCommandRoundTripsWhateverSegmentsItArrivesIn()
    {
        var argument = Gen.Byte.Array[0, 40];
        Gen.Select(argument.Array[1, 6], Gen.Int[1, 7]).Sample((arguments, chunk) =>
        {
            var frame = Encode(arguments);
            var buffer = Segmented(frame, chunk);
            var status = RespParser.TryParse(ref buffer, Limits, out var parsed, out _);
            return status == RespParseStatus.Complete && buffer.IsEmpty && parsed.Length == arguments.Length &&
                   parsed.Zip(arguments).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second));
        });
    }

    [Fact]
    public void ArbitraryBytesNeverThrowAndNeverConsumeWithoutAResult()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var buffer = new ReadOnlySequence<byte>(bytes);
            var before = buffer.Length;
            var status = RespParser.TryParse(ref buffer, Limits, out _, out var error);
            return status switch
            {
                RespParseStatus.Complete => buffer.Length < before,
                RespParseStatus.Invalid => error is not null && buffer.Length == before,
                _ => buffer.Length == before,
            };
        });
    }

    [Fact]
    public void MutatedFramesAreNeverMisreadAsLongerArguments()
    {
        // A frame with one byte changed is either still a command whose arguments fit the limits,
        // incomplete, or invalid: never an argument longer than the limit, never an exception.
        var frame = Encode(B("SET"), B("key"), B("value"));
        Gen.Select(Gen.Int[0, frame.Length - 1], Gen.Byte).Sample((position, value) =>
        {
            var mutated = (byte[])frame.Clone();
            mutated[position] = value;
            var buffer = new ReadOnlySequence<byte>(mutated);
            var status = RespParser.TryParse(ref buffer, Limits, out var arguments, out _);
            return status != RespParseStatus.Complete || arguments.All(a => a.Length <= Limits.MaxBulkBytes);
        });
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int chunk)
    {
        Segment? first = null;
        Segment? last = null;
        for (var i = 0; i < bytes.Length; i += chunk)
        {
            var memory = bytes.AsMemory(i, Math.Min(chunk, bytes.Length - i));
            last = last is null ? first = new Segment(memory, 0) : last.Append(memory);
        }
        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("user:*", "user:42", true)]
    [InlineData("user:*", "users:42", false)]
    [InlineData("h?llo", "hello", true)]
    [InlineData("h?llo", "hllo", false)]
    [InlineData("h[ae]llo", "hallo", true)]
    [InlineData("h[ae]llo", "hillo", false)]
    [InlineData("h[^e]llo", "hallo", true)]
    [InlineData("h[^e]llo", "hello", false)]
    [InlineData("h[a-b]llo", "hbllo", true)]
    [InlineData("a\\*b", "a*b", true)]
    [InlineData("a\\*b", "axb", false)]
    [InlineData("*a*b*c*", "xxaxxbxxcxx", true)]
    [InlineData("*a*b*c*", "xxaxxcxxbxx", false)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    public void MatchesAsRedisDoes(string pattern, string text, bool expected) =>
        Assert.Equal(expected, GlobPattern.IsMatch(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(text)));

    [Fact]
    public void StarsAndQuestionMarksAgreeWithARegularExpression()
    {
        var alphabet = Gen.Char["ab*?"];
        Gen.Select(Gen.String[alphabet, 0, 8], Gen.String[Gen.Char["ab"], 0, 10]).Sample((pattern, text) =>
        {
            var regex = "^" + string.Concat(pattern.Select(c => c switch { '*' => ".*", '?' => ".", _ => c.ToString() })) + "$";
            return GlobPattern.IsMatch(Encoding.ASCII.GetBytes(pattern), Encoding.ASCII.GetBytes(text)) ==
                   System.Text.RegularExpressions.Regex.IsMatch(text, regex, System.Text.RegularExpressions.RegexOptions.Singleline);
        });
    }

    [Fact]
    public void TheLiteralPrefixEndsAtTheFirstSpecialCharacter()
    {
        Assert.Equal("user:", Encoding.UTF8.GetString(GlobPattern.LiteralPrefix("user:*"u8)));
        Assert.Equal("a", Encoding.UTF8.GetString(GlobPattern.LiteralPrefix("a[bc]"u8)));
        Assert.Equal("plain", Encoding.UTF8.GetString(GlobPattern.LiteralPrefix("plain"u8)));
    }
}
