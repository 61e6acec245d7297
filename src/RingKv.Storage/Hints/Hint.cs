namespace RingKv.Storage.Hints;

/// <summary>
/// A write held on a fallback node for a replica that was down when it was made (hinted handoff,
/// Dynamo §4.6). Replayed to <paramref name="OwnerId"/> when it is up again, then removed.
/// </summary>
/// <param name="OwnerId">The node the write was meant for.</param>
/// <param name="Sequence">
/// The store's arrival number: increasing across the whole store, never reused, so the hints of
/// one owner replay in the order they arrived. Not dense: sequences of other owners fall between.
/// </param>
/// <param name="Entry">The entry to write on the owner, exactly as the coordinator sent it.</param>
/// <param name="CreatedAt">When the hint was stored, to the millisecond; the age bound counts from it.</param>
public sealed record Hint(string OwnerId, long Sequence, StoredEntry Entry, DateTimeOffset CreatedAt);
