using RingKv.Core.Versioning;

namespace RingKv.Storage;

public enum PreconditionKind
{
    /// <summary>Unconditional: last writer wins.</summary>
    None,

    /// <summary><c>If-None-Match: *</c>: only if no live entry exists.</summary>
    IfAbsent,

    /// <summary><c>If-Match: "v"</c>: only if the live entry has exactly this version.</summary>
    IfVersion,
}

/// <summary>A condition checked atomically with the write, against the live entry (tombstones and expired entries count as absent).</summary>
public readonly record struct WritePrecondition(PreconditionKind Kind, EntryVersion Expected)
{
    public static WritePrecondition None => default;

    public static WritePrecondition IfAbsent => new(PreconditionKind.IfAbsent, default);

    public static WritePrecondition IfVersion(EntryVersion expected) => new(PreconditionKind.IfVersion, expected);

    public bool IsSatisfiedBy(StoredEntry? current, long nowMs) =>
        IsSatisfiedBy(current is not null && current.IsLive(nowMs), current?.Version ?? default);

    /// <param name="live">Whether a live entry (not deleted, not expired) exists.</param>
    /// <param name="current">Its version, when it exists.</param>
    public bool IsSatisfiedBy(bool live, EntryVersion current) => Kind switch
    {
        PreconditionKind.IfAbsent => !live,
        PreconditionKind.IfVersion => live && current == Expected,
        _ => true,
    };
}
