namespace RingKv.Core.Ring;

/// <summary>
/// The arc owned by one vnode together with the nodes that replicate it: every key in
/// <see cref="Range"/> has exactly <see cref="PreferenceList"/> as its replicas. The coordinator plans
/// transfers and counts under-replicated data per range, never per key.
/// </summary>
public sealed record ReplicatedRange(TokenRange Range, IReadOnlyList<string> PreferenceList);
