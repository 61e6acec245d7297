using System.Text;
using CsCheck;
using RingKv.Core.Keys;

namespace RingKv.Core.Tests.Keys;

public sealed class KeyRulesTests
{
    private const int Max = KeyRules.DefaultMaxKeyBytes;

    [Theory]
    [InlineData("users/42/profile", "users/42/profile")]
    [InlineData("users%2F42", "users/42")]
    [InlineData("caf%C3%A9", "café")]
    [InlineData("café/日本語", "café/日本語")]
    [InlineData("%F0%9F%94%91", "🔑")]
    [InlineData("a.b/.c/..d/...", "a.b/.c/..d/...")]
    [InlineData("100%25", "100%")]
    public void ValidKeysAreAcceptedAndDecodedOnce(string raw, string expected)
    {
        Assert.Equal(KeyError.None, KeyRules.TryDecode(raw, Max, out var key));
        Assert.Equal(expected, key);
    }

    [Fact]
    public void KeyOfExactlyTheMaximumBytesIsAccepted()
    {
        Assert.Equal(KeyError.None, KeyRules.TryDecode(new string('a', Max), Max, out var ascii));
        Assert.Equal(Max, ascii.Length);

        // 341 three-byte characters plus one ASCII byte: 1,024 bytes in 342 characters.
        var wide = new string('€', 341) + "a";
        Assert.Equal(Max, Encoding.UTF8.GetByteCount(wide));
        Assert.Equal(KeyError.None, KeyRules.TryDecode(wide, Max, out _));
        Assert.Equal(KeyError.None, KeyRules.Validate(wide, Max));
    }

    [Theory]
    [InlineData("", KeyError.Empty)]
    [InlineData("%00", KeyError.ControlCharacter)]
    [InlineData("a%00b", KeyError.ControlCharacter)]
    [InlineData("a\u0001b", KeyError.ControlCharacter)]
    [InlineData("a%0Ab", KeyError.ControlCharacter)]
    [InlineData("tab%09", KeyError.ControlCharacter)]
    [InlineData("%1F", KeyError.ControlCharacter)]
    [InlineData("%7F", KeyError.ControlCharacter)]
    [InlineData("%FF", KeyError.InvalidUtf8)]
    [InlineData("%C3", KeyError.InvalidUtf8)]
    [InlineData("%C0%AF", KeyError.InvalidUtf8)]
    [InlineData("%", KeyError.InvalidPercentEncoding)]
    [InlineData("abc%", KeyError.InvalidPercentEncoding)]
    [InlineData("%4", KeyError.InvalidPercentEncoding)]
    [InlineData("%G1", KeyError.InvalidPercentEncoding)]
    [InlineData("%252e%252e%252f", KeyError.DoubleEncoded)]
    [InlineData("a%2541", KeyError.DoubleEncoded)]
    [InlineData("../", KeyError.DotSegment)]
    [InlineData("..%2F", KeyError.DotSegment)]
    [InlineData("%2e%2e/", KeyError.DotSegment)]
    [InlineData("..\\", KeyError.DotSegment)]
    [InlineData("a/../b", KeyError.DotSegment)]
    [InlineData("a/./b", KeyError.DotSegment)]
    [InlineData(".", KeyError.DotSegment)]
    [InlineData("a/..", KeyError.DotSegment)]
    [InlineData("a%5C..%5Cb", KeyError.DotSegment)]
    public void InvalidKeysAreRefusedWithTheirReason(string raw, KeyError expected)
    {
        Assert.Equal(expected, KeyRules.TryDecode(raw, Max, out var key));
        Assert.Equal(string.Empty, key);
        Assert.NotEqual(KeyRules.Describe(KeyError.None, Max), KeyRules.Describe(expected, Max));
    }

    [Fact]
    public void KeyOneByteOverTheMaximumIsRefused()
    {
        Assert.Equal(KeyError.TooLong, KeyRules.TryDecode(new string('a', Max + 1), Max, out _));
        Assert.Equal(KeyError.TooLong, KeyRules.TryDecode(new string('€', 341) + "ab", Max, out _));
        Assert.Equal(KeyError.TooLong, KeyRules.Validate(new string('a', Max + 1), Max));
    }

    [Fact]
    public void LoneSurrogateInAStringKeyIsInvalidUtf8()
    {
        Assert.Equal(KeyError.InvalidUtf8, KeyRules.Validate("a\uD800b", Max));
    }

    [Fact]
    public void EveryAcceptableKeyPercentEncodedOncePerByteDecodesBackToItself()
    {
        // Code points weighted towards the characters the rules care about: '/', '\', '.', '%'.
        var codePoint = Gen.Frequency(
            (4, Gen.Int[0x20, 0x7E]),
            (2, Gen.OneOfConst((int)'/', '\\', '.', '%')),
            (2, Gen.Int[0x80, 0xD7FF]),
            (1, Gen.Int[0xE000, 0x10FFFF]));
        var keys = codePoint.Where(c => c != 0x7F).Array[1, 60]
            .Select(points => string.Concat(points.Select(char.ConvertFromUtf32)))
            .Where(IsAcceptable);
        keys.Sample(key =>
        {
            var encoded = string.Concat(Encoding.UTF8.GetBytes(key).Select(b => $"%{b:X2}"));
            Assert.Equal(KeyError.None, KeyRules.TryDecode(encoded, Max, out var decoded));
            Assert.Equal(key, decoded);
            Assert.Equal(KeyError.None, KeyRules.Validate(key, Max));
        });
    }

    /// <summary>The generator's filter: no control characters, no dot segments, no '%' followed by two hex digits.</summary>
    private static bool IsAcceptable(string key)
    {
        if (key.Any(c => c < 0x20 || c == 0x7F))
        {
            return false;
        }
        if (key.Split('/', '\\').Any(segment => segment is "." or ".."))
        {
            return false;
        }
        for (var i = 0; i + 2 < key.Length; i++)
        {
            if (key[i] == '%' && char.IsAsciiHexDigit(key[i + 1]) && char.IsAsciiHexDigit(key[i + 2]))
            {
                return false;
            }
        }
        return true;
    }
}
