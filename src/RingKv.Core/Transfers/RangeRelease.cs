using RingKv.Core.Ring;

namespace RingKv.Core.Transfers;

/// <summary>
/// Ranges a node held before a membership change and no longer replicates after it. It keeps them
/// until the new epoch is published and a grace period has passed, then drops them, so
/// every key ends on exactly RF nodes.
/// </summary>
public sealed record RangeRelease(string NodeId, IReadOnlyList<TokenRange> Ranges);
