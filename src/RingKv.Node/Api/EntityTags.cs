using Microsoft.Extensions.Primitives;
using RingKv.Core.Versioning;

namespace RingKv.Node.Api;

/// <summary>
/// <c>If-Match</c> and <c>If-None-Match</c> as RFC 9110 section 13 writes them: <c>*</c>, or a
/// comma-separated list of entity-tags (<c>"opaque"</c> or weak <c>W/"opaque"</c>), over any number
/// of header lines. Text that is not that is a client error (400); a well-formed tag that is not a
/// RingKV version is simply one that matches nothing.
/// </summary>
public static class EntityTags
{
    /// <param name="any">The value was <c>*</c>.</param>
    /// <param name="tags">The entity-tags listed (empty for <c>*</c>).</param>
    public static bool TryParse(StringValues values, out bool any, out List<(bool Weak, string Opaque)> tags)
    {
        any = false;
        tags = [];
        var text = string.Join(',', values.Where(v => v is not null)!);
        if (text.Trim() == "*")
        {
            any = true;
            return true;
        }
        var i = 0;
        while (true)
        {
            // List elements may be empty and separated by optional whitespace (RFC 9110 section 5.6.1).
            while (i < text.Length && (text[i] is ' ' or '\t' or ','))
            {
                i++;
            }
            if (i >= text.Length)
            {
                return tags.Count > 0;
            }
            var weak = false;
            if (text[i] == 'W' && i + 1 < text.Length && text[i + 1] == '/')
            {
                weak = true;
                i += 2;
            }
            if (i >= text.Length || text[i] != '"')
            {
                return false;
            }
            var end = i + 1;
            while (end < text.Length && text[end] != '"')
            {
                // etagc: %x21 / %x23-7E / obs-text; no spaces, controls or quotes inside.
                if (text[end] is <= ' ' or '\x7F')
                {
                    return false;
                }
                end++;
            }
            if (end >= text.Length)
            {
                return false;
            }
            tags.Add((weak, text[(i + 1)..end]));
            i = end + 1;
            while (i < text.Length && text[i] is ' ' or '\t')
            {
                i++;
            }
            if (i < text.Length && text[i] != ',')
            {
                return false;
            }
        }
    }

    /// <summary>The RingKV versions among the tags: strong ones only for If-Match (strong comparison), all for If-None-Match (weak).</summary>
    public static EntryVersion[] Versions(List<(bool Weak, string Opaque)> tags, bool strongOnly) =>
        tags.Where(tag => !strongOnly || !tag.Weak)
            .Select(tag => EntryVersion.TryParse(tag.Opaque, out var version) ? version : (EntryVersion?)null)
            .OfType<EntryVersion>()
            .ToArray();
}
