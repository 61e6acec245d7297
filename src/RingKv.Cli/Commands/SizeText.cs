using System.Globalization;

namespace RingKv.Cli.Commands;

/// <summary>Sizes on the command line: bytes, or a number with K, M or G (powers of 1024), as <c>df -h</c> and RocksDB's options write them.</summary>
public static class SizeText
{
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            return false;
        }
        var multiplier = char.ToUpperInvariant(trimmed[^1]) switch
        {
            'K' => 1024L,
            'M' => 1024L * 1024,
            'G' => 1024L * 1024 * 1024,
            _ => 1L,
        };
        var number = multiplier == 1 ? trimmed : trimmed[..^1];
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > long.MaxValue / multiplier)
        {
            return false;
        }
        bytes = value * multiplier;
        return true;
    }

    public static string Format(long bytes) =>
        bytes != 0 && bytes % (1024L * 1024 * 1024) == 0 ? (bytes / (1024L * 1024 * 1024)).ToString(CultureInfo.InvariantCulture) + "G"
        : bytes != 0 && bytes % (1024L * 1024) == 0 ? (bytes / (1024L * 1024)).ToString(CultureInfo.InvariantCulture) + "M"
        : bytes != 0 && bytes % 1024 == 0 ? (bytes / 1024).ToString(CultureInfo.InvariantCulture) + "K"
        : bytes.ToString(CultureInfo.InvariantCulture);
}
