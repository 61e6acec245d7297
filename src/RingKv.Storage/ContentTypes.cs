using System.Text;

namespace RingKv.Storage;

/// <summary>Shares the string instances of common content types so decoding an entry does not allocate one per read.</summary>
internal static class ContentTypes
{
    private static readonly string[] Common =
    [
        StoredEntry.DefaultContentType,
        "application/json",
        "text/plain",
        "text/plain; charset=utf-8",
        "application/json; charset=utf-8",
    ];

    private static readonly byte[][] CommonUtf8 = [.. Common.Select(Encoding.UTF8.GetBytes)];

    public static string Intern(ReadOnlySpan<byte> utf8)
    {
        for (var i = 0; i < CommonUtf8.Length; i++)
        {
            if (utf8.SequenceEqual(CommonUtf8[i]))
            {
                return Common[i];
            }
        }
        return Encoding.UTF8.GetString(utf8);
    }
}
