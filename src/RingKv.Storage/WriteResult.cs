using RingKv.Core.Versioning;

namespace RingKv.Storage;

public enum WriteStatus
{
    /// <summary>The entry is now stored (durably, as the engine's fsync setting defines).</summary>
    Applied,

    /// <summary>A newer or equal version was already stored; nothing changed (last writer wins).</summary>
    Stale,

    /// <summary>The precondition did not hold; nothing changed.</summary>
    PreconditionFailed,
}

/// <param name="Status">What happened.</param>
/// <param name="Current">The version stored after the call (zero if none).</param>
public readonly record struct WriteResult(WriteStatus Status, EntryVersion Current);
