namespace RingKv.Client;

/// <summary>One page of <c>GET /v1/kv</c>.</summary>
/// <param name="Keys">Keys in the server's stable order.</param>
/// <param name="Cursor">Opaque position of the next page; null when this was the last one.</param>
public sealed record KeyPage(IReadOnlyList<string> Keys, string? Cursor);
