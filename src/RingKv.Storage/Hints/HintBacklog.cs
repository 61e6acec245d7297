namespace RingKv.Storage.Hints;

/// <summary>The hints waiting for one owner: what an operator reads as that node's backlog.</summary>
/// <param name="Hints">Hints pending.</param>
/// <param name="Bytes">Their size as the bytes bound counts it (encoded key and value).</param>
public readonly record struct HintBacklog(long Hints, long Bytes);
