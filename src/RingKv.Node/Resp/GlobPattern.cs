namespace RingKv.Node.Resp;

/// <summary>
/// Redis's glob patterns for KEYS and SCAN MATCH, over bytes as Redis matches them: <c>*</c> any
/// run, <c>?</c> one byte, <c>[abc]</c>, <c>[^a]</c>, <c>[a-z]</c>, and <c>\</c> to escape.
/// </summary>
public static class GlobPattern
{
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text)
    {
        // Iterative with one backtrack point for the last '*': linear in practice, and no
        // recursion a hostile pattern could drive deep.
        int p = 0, t = 0, starP = -1, starT = -1;
        while (t < text.Length)
        {
            if (p < pattern.Length)
            {
                var c = pattern[p];
                if (c == (byte)'*')
                {
                    starP = ++p;
                    starT = t;
                    continue;
                }
                if (c == (byte)'?')
                {
                    p++;
                    t++;
                    continue;
                }
                if (c == (byte)'[')
                {
                    if (MatchClass(pattern, ref p, text[t]))
                    {
                        t++;
                        continue;
                    }
                }
                else
                {
                    if (c == (byte)'\\' && p + 1 < pattern.Length)
                    {
                        c = pattern[p + 1];
                        if (c == text[t])
                        {
                            p += 2;
                            t++;
                            continue;
                        }
                    }
                    else if (c == text[t])
                    {
                        p++;
                        t++;
                        continue;
                    }
                }
            }
            if (starP < 0)
            {
                return false;
            }
            p = starP;
            t = ++starT;
        }
        while (p < pattern.Length && pattern[p] == (byte)'*')
        {
            p++;
        }
        return p == pattern.Length;
    }

    /// <summary>Whether <paramref name="value"/> is in the <c>[...]</c> class at <paramref name="p"/>, which is moved past the class.</summary>
    private static bool MatchClass(ReadOnlySpan<byte> pattern, ref int p, byte value)
    {
        var i = p + 1;
        var negate = i < pattern.Length && pattern[i] == (byte)'^';
        if (negate)
        {
            i++;
        }
        var matched = false;
        while (i < pattern.Length && pattern[i] != (byte)']')
        {
            if (pattern[i] == (byte)'\\' && i + 1 < pattern.Length)
            {
                matched |= pattern[i + 1] == value;
                i += 2;
            }
            else if (i + 2 < pattern.Length && pattern[i + 1] == (byte)'-' && pattern[i + 2] != (byte)']')
            {
                var (low, high) = pattern[i] <= pattern[i + 2] ? (pattern[i], pattern[i + 2]) : (pattern[i + 2], pattern[i]);
                matched |= value >= low && value <= high;
                i += 3;
            }
            else
            {
                matched |= pattern[i] == value;
                i++;
            }
        }
        // No closing bracket: Redis treats the class as running to the end of the pattern.
        p = i >= pattern.Length ? i : i + 1;
        return matched ^ negate;
    }

    /// <summary>The literal bytes before the first special character: where a listing by prefix can start.</summary>
    public static ReadOnlySpan<byte> LiteralPrefix(ReadOnlySpan<byte> pattern)
    {
        var end = pattern.IndexOfAny("*?[\\"u8);
        return end < 0 ? pattern : pattern[..end];
    }

    public static bool MatchesEverything(ReadOnlySpan<byte> pattern) => pattern.SequenceEqual("*"u8);
}
