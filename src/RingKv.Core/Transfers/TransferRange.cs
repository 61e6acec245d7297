using RingKv.Core.Ring;

namespace RingKv.Core.Transfers;

/// <summary>
/// A contiguous token range a destination must receive, with the replicas that can send it, best
/// first: surviving owners (which keep the range) before departing ones, each in preference-list
/// order. When a source dies mid-stream the transfer resumes from the next one.
/// </summary>
public sealed record TransferRange(TokenRange Range, IReadOnlyList<string> Sources);
