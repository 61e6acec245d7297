namespace RingKv.Storage;

/// <summary>
/// A position in the engine's order: (token, UTF-8 key bytes). Scans resume strictly after it,
/// which is what paging cursors and resumable range transfers need.
/// </summary>
public readonly record struct ScanPosition(ulong Token, byte[]? Key)
{
    /// <summary>Before every entry whose token is at least <paramref name="token"/>.</summary>
    public static ScanPosition AtToken(ulong token) => new(token, null);

    public static ScanPosition Start => AtToken(0);

    /// <summary>Whether an entry at (<paramref name="token"/>, <paramref name="key"/>) lies strictly after this position.</summary>
    public bool IsBefore(ulong token, ReadOnlySpan<byte> key)
    {
        if (token != Token)
        {
            return token > Token;
        }
        return Key is null || key.SequenceCompareTo(Key) > 0;
    }
}
