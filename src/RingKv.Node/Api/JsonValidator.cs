using System.Text.Json;

namespace RingKv.Node.Api;

/// <summary>Checks that a body sent with a JSON content type is one complete, valid JSON document of any kind.</summary>
public static class JsonValidator
{
    /// <summary>Deep enough for real documents, shallow enough that a hostile 10,000-deep body is refused cheaply.</summary>
    public const int MaxDepth = 128;

    public static bool IsJsonContentType(string contentType)
    {
        var mediaType = contentType.AsSpan();
        var semicolon = mediaType.IndexOf(';');
        if (semicolon >= 0)
        {
            mediaType = mediaType[..semicolon];
        }
        mediaType = mediaType.Trim();
        return mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
               mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    public static bool TryValidate(ReadOnlySpan<byte> utf8, out string error)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            while (reader.Read())
            {
            }
            if (reader.BytesConsumed == 0)
            {
                error = "The body is empty.";
                return false;
            }
            error = string.Empty;
            return true;
        }
        catch (JsonException ex)
        {
            error = ex.Message;
            return false;
        }
    }
}
