namespace RingKv.Node.Resp;

/// <summary>
/// Splits an inline command line the way Redis does (its <c>sdssplitargs</c>): words separated
/// by spaces or tabs; "double quotes" with backslash escapes (\n \r \t \b \a \\ \" \xHH); 'single
/// quotes' with only \' escaped. A closing quote must be followed by a space or the end of the line.
/// </summary>
public static class InlineArguments
{
    public static bool TrySplit(ReadOnlySpan<byte> line, int maxArguments, out byte[][] arguments)
    {
        arguments = [];
        var result = new List<byte[]>();
        var current = new List<byte>();
        var i = 0;
        while (true)
        {
            while (i < line.Length && IsSpace(line[i]))
            {
                i++;
            }
            if (i >= line.Length)
            {
                arguments = [.. result];
                return true;
            }
            if (result.Count >= maxArguments)
            {
                return false;
            }
            current.Clear();
            var inDouble = false;
            var inSingle = false;
            var done = false;
            while (!done)
            {
                if (inDouble)
                {
                    if (i >= line.Length)
                    {
                        return false;
                    }
                    if (line[i] == (byte)'\\' && i + 3 < line.Length && line[i + 1] == (byte)'x' && IsHex(line[i + 2]) && IsHex(line[i + 3]))
                    {
                        current.Add((byte)((HexValue(line[i + 2]) << 4) | HexValue(line[i + 3])));
                        i += 3;
                    }
                    else if (line[i] == (byte)'\\' && i + 1 < line.Length)
                    {
                        i++;
                        current.Add(line[i] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            var other => other,
                        });
                    }
                    else if (line[i] == (byte)'"')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return false;
                        }
                        done = true;
                    }
                    else
                    {
                        current.Add(line[i]);
                    }
                }
                else if (inSingle)
                {
                    if (i >= line.Length)
                    {
                        return false;
                    }
                    if (line[i] == (byte)'\\' && i + 1 < line.Length && line[i + 1] == (byte)'\'')
                    {
                        i++;
                        current.Add((byte)'\'');
                    }
                    else if (line[i] == (byte)'\'')
                    {
                        if (i + 1 < line.Length && !IsSpace(line[i + 1]))
                        {
                            return false;
                        }
                        done = true;
                    }
                    else
                    {
                        current.Add(line[i]);
                    }
                }
                else if (i >= line.Length || IsSpace(line[i]))
                {
                    done = true;
                }
                else if (line[i] == (byte)'"')
                {
                    inDouble = true;
                }
                else if (line[i] == (byte)'\'')
                {
                    inSingle = true;
                }
                else
                {
                    current.Add(line[i]);
                }
                if (i < line.Length)
                {
                    i++;
                }
            }
            result.Add([.. current]);
        }
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => b - 'A' + 10,
    };
}
