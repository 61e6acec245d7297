namespace RingKv.Client;

/// <summary>A stored value as <c>GET /v1/kv/{key}</c> returns it.</summary>
/// <param name="Key">The key, as the caller gave it.</param>
/// <param name="Value">The stored bytes, exactly as written.</param>
/// <param name="ContentType">The stored content type (<c>application/octet-stream</c> when none was given).</param>
/// <param name="Version">The entry's version, the ETag without its quotes; pass it to <c>ifMatch</c> for a compare-and-set.</param>
public sealed record RingKvEntry(string Key, byte[] Value, string ContentType, string Version);
