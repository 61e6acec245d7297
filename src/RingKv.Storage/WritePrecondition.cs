using RingKv.Core.Versioning;

namespace RingKv.Storage;

public enum PreconditionKind
{
    /// <summary>Unconditional: last writer wins.</summary>
    None,

    /// <summary>A condition on the live entry: If-Match, If-None-Match, or both (RFC 9110 section 13).</summary>
    Conditional,
}

/// <summary>
/// A condition checked atomically with the write, against the live entry (tombstones and expired
/// entries count as absent). It holds HTTP's two preconditions as RFC 9110 section 13 defines
/// them, evaluated in its order (If-Match first): <c>If-Match: *</c> holds when a live entry
/// exists, <c>If-Match: "v1", "v2"</c> when the live entry's version is one of them;
/// <c>If-None-Match: *</c> holds when none exists, <c>If-None-Match: "v1"</c> unless the live
/// entry's version is one of them. Entity-tags that are not RingKV versions are kept as "no
/// version": they never match, so a condition on them is simply false or true, never an error.
/// </summary>
public readonly record struct WritePrecondition
{
    private WritePrecondition(bool matchAny, EntryVersion[]? match, bool noneMatchAny, EntryVersion[]? noneMatch)
    {
        MatchAny = matchAny;
        Match = match;
        NoneMatchAny = noneMatchAny;
        NoneMatch = noneMatch;
    }

    /// <summary><c>If-Match: *</c>.</summary>
    public bool MatchAny { get; }

    /// <summary>The versions of <c>If-Match</c>; null without the header (an empty list matches nothing).</summary>
    public EntryVersion[]? Match { get; }

    /// <summary><c>If-None-Match: *</c>.</summary>
    public bool NoneMatchAny { get; }

    /// <summary>The versions of <c>If-None-Match</c>; null without the header.</summary>
    public EntryVersion[]? NoneMatch { get; }

    public PreconditionKind Kind => MatchAny || Match is not null || NoneMatchAny || NoneMatch is not null ? PreconditionKind.Conditional : PreconditionKind.None;

    public static WritePrecondition None => default;

    /// <summary><c>If-None-Match: *</c>: only if no live entry exists.</summary>
    public static WritePrecondition IfAbsent => new(false, null, true, null);

    /// <summary><c>If-Match: "v"</c>: only if the live entry has exactly this version.</summary>
    public static WritePrecondition IfVersion(EntryVersion expected) => new(false, [expected], false, null);

    /// <summary>Both headers as parsed; <c>any</c> is <c>*</c>, a null list is an absent header.</summary>
    public static WritePrecondition FromHeaders(bool matchAny, EntryVersion[]? match, bool noneMatchAny, EntryVersion[]? noneMatch) =>
        new(matchAny, matchAny ? null : match, noneMatchAny, noneMatchAny ? null : noneMatch);

    public bool IsSatisfiedBy(StoredEntry? current, long nowMs) =>
        IsSatisfiedBy(current is not null && current.IsLive(nowMs), current?.Version ?? default);

    /// <param name="live">Whether a live entry (not deleted, not expired) exists.</param>
    /// <param name="current">Its version, when it exists.</param>
    public bool IsSatisfiedBy(bool live, EntryVersion current) => IfMatchHolds(live, current) && IfNoneMatchHolds(live, current);

    /// <summary>The If-Match half (true without the header). A read answers 412 when it does not hold.</summary>
    public bool IfMatchHolds(bool live, EntryVersion current) =>
        (!MatchAny || live) && (Match is not { } match || (live && Array.IndexOf(match, current) >= 0));

    /// <summary>The If-None-Match half (true without the header). A read answers 304 when it does not hold.</summary>
    public bool IfNoneMatchHolds(bool live, EntryVersion current) =>
        (!NoneMatchAny || !live) && (NoneMatch is not { } noneMatch || !(live && Array.IndexOf(noneMatch, current) >= 0));
}
