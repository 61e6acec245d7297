namespace RingKv.Node.Api;

/// <summary>
/// Whether text has a control character (<see cref="char.IsControl(char)"/>: U+0000–U+001F and
/// U+007F–U+009F), which must never reach a response header or a key prefix. Vectorised, without
/// the enumerator a LINQ check allocates on every request and every replicated entry.
/// </summary>
internal static class ControlCharacters
{
    public static bool In(string text) =>
        text.AsSpan().ContainsAnyInRange('\u0000', '\u001F') || text.AsSpan().ContainsAnyInRange('\u007F', '\u009F');
}
