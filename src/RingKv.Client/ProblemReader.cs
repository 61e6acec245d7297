using System.Net;
using System.Text.Json;

namespace RingKv.Client;

/// <summary>Reads an error answer into a <see cref="RingKvException"/>, tolerating bodies that are not problem documents.</summary>
internal static class ProblemReader
{
    // A problem document is small; anything bigger is not one, and we must not buffer a huge error page.
    private const int MaxProblemBytes = 64 * 1024;

    public static async Task<RingKvException> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = response.StatusCode;
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is not null && mediaType.EndsWith("json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var body = await ReadBoundedAsync(response.Content, cancellationToken).ConfigureAwait(false);
                using var document = JsonDocument.Parse(body);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    var root = document.RootElement;
                    return new RingKvException(status, Text(root, "type"), Text(root, "title"), Text(root, "detail"));
                }
            }
            catch (JsonException)
            {
                // Not a problem document after all: fall through to the status alone.
            }
        }
        return new RingKvException(status, null, response.ReasonPhrase, null);
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxProblemBytes)
            {
                throw new JsonException("Error body too large to be a problem document.");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
