using System.Text;

namespace RingKv.Cluster.Tests.Histories;

/// <summary>
/// Checks a recorded history against last-writer-wins, in the manner of Jepsen's register checker.
/// Every write's version is a hybrid-logical-clock timestamp taken by the node that coordinated it,
/// between the client's start and end; every process here reads the one machine's wall clock, and a
/// node's clock is never ahead of it, so a write that ended a full millisecond before another one
/// started has the smaller version (<see cref="Precedes"/>). Writes closer than that, or overlapping,
/// are concurrent: either may win. An unanswered write may be applied any time after it started, so
/// nothing is known to come after it.
/// </summary>
public static class HistoryChecker
{
    /// <summary>Versions carry milliseconds: two writes a full millisecond apart are ordered.</summary>
    public static readonly TimeSpan Granularity = TimeSpan.FromMilliseconds(1);

    /// <summary>Whether <paramref name="earlier"/> certainly has the smaller version of the two writes.</summary>
    public static bool Precedes(Operation earlier, Operation later)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        ArgumentNullException.ThrowIfNull(later);
        return !earlier.OpenEnded && earlier.End + Granularity <= later.Start;
    }

    /// <summary>
    /// The state every replica converged to, per key (a value, or null for deleted or absent), must
    /// be that of a write that may have happened and that no acknowledged write certainly came after:
    /// no acknowledged write lost, no delete undone, no value that was never written.
    /// </summary>
    public static IReadOnlyList<string> CheckFinal(IReadOnlyList<Operation> history, IReadOnlyDictionary<string, string?> finalStates)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(finalStates);
        var errors = new List<string>();
        var byKey = history.Where(o => o.IsWrite).ToLookup(o => o.Key, StringComparer.Ordinal);
        foreach (var (key, state) in finalStates)
        {
            var writes = byKey[key].ToList();
            if (Explain(key, state, writes, writes.Where(w => w.Outcome == Outcome.Ok).ToList(), readEnd: DateTime.MaxValue) is { } problem)
            {
                errors.Add($"final state of {key}: {problem}\n{Describe(history, key)}");
            }
        }
        return errors;
    }

    /// <summary>
    /// Every successful read the scenario promises fresh (<paramref name="promised"/>) must return a
    /// value that was written (or not-found) and that no write acknowledged before the read started
    /// certainly superseded: a quorum read sees the last acknowledged write, or a newer one.
    /// </summary>
    public static IReadOnlyList<string> CheckReads(IReadOnlyList<Operation> history, Func<Operation, bool> promised)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(promised);
        var errors = new List<string>();
        var byKey = history.Where(o => o.IsWrite).ToLookup(o => o.Key, StringComparer.Ordinal);
        foreach (var read in history.Where(o => o.Kind == OperationKind.Get && o.Outcome == Outcome.Ok && promised(o)))
        {
            var writes = byKey[read.Key].ToList();
            var ackedBefore = writes.Where(w => w.Outcome == Outcome.Ok && w.End < read.Start).ToList();
            if (Explain(read.Key, read.Observed, writes, ackedBefore, read.End) is { } problem)
            {
                errors.Add($"read {read}: {problem}\n{Describe(history, read.Key)}");
            }
        }
        return errors;
    }

    /// <summary>
    /// Read-your-writes: of the successful reads that followed one of the same client's acknowledged
    /// writes of the key (Total), how many returned that client's last acknowledged state (Fresh).
    /// Meaningful where each key has a single writer.
    /// </summary>
    public static (int Fresh, int Total) ReadYourWrites(IReadOnlyList<Operation> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        var fresh = 0;
        var total = 0;
        foreach (var group in history.GroupBy(o => (o.Client, o.Key)))
        {
            string? lastAcked = null;
            var hasAcked = false;
            foreach (var op in group.OrderBy(o => o.Sequence))
            {
                if (op.IsWrite && op.Outcome == Outcome.Ok)
                {
                    lastAcked = op.Written;
                    hasAcked = true;
                }
                else if (op.Kind == OperationKind.Get && op.Outcome == Outcome.Ok && hasAcked)
                {
                    total++;
                    fresh += op.Observed == lastAcked ? 1 : 0;
                }
            }
        }
        return (fresh, total);
    }

    /// <summary>Null when <paramref name="state"/> is explained by a write none of <paramref name="acked"/> certainly superseded; else why not.</summary>
    private static string? Explain(string key, string? state, List<Operation> writes, List<Operation> acked, DateTime readEnd)
    {
        List<Operation?> sources;
        if (state is not null)
        {
            var producers = writes.Where(w => w.Kind == OperationKind.Put && w.Value == state).ToList();
            if (producers.Count == 0)
            {
                return $"'{state}' was never written to {key} (a phantom value)";
            }
            if (producers.All(p => p.Outcome == Outcome.Failed))
            {
                return $"'{state}' comes from a write that certainly failed: {producers[0]}";
            }
            sources = [.. producers.Where(p => p.MayHaveWritten && p.Start < readEnd).OrderBy(p => p.Start)];
            if (sources.Count == 0)
            {
                return $"'{state}' was read before it was written: {producers[0]}";
            }
        }
        else
        {
            // Not-found: a delete that may have happened, or the key's state before any write (null).
            sources = [null, .. writes.Where(w => w.Kind == OperationKind.Delete && w.MayHaveWritten && w.Start < readEnd).OrderBy(w => w.Start)];
        }
        Operation? blocker = null;
        foreach (var source in sources)
        {
            var superseding = acked.FirstOrDefault(a => a.Written != state && (source is null || Precedes(source, a)));
            if (superseding is null)
            {
                return null;
            }
            // Sources are in start order: the latest one's blocker is the telling one.
            blocker = superseding;
        }
        var what = state is null ? "not-found" : $"'{state}'";
        return blocker!.Kind == OperationKind.Delete
            ? $"{what}, but the acknowledged delete {blocker} came certainly later (a deleted key came back)"
            : $"{what}, but the acknowledged write {blocker} came certainly later (an acknowledged write lost)";
    }

    /// <summary>Every operation on the key, in order: the failing history.</summary>
    public static string Describe(IReadOnlyList<Operation> history, string key)
    {
        ArgumentNullException.ThrowIfNull(history);
        var text = new StringBuilder();
        var operations = history.Where(o => o.Key == key).OrderBy(o => o.Start).ToList();
        const int Shown = 60;
        text.Append("  history of ").Append(key).Append(" (").Append(operations.Count).Append(" operations");
        text.Append(operations.Count > Shown ? $", last {Shown} shown):" : "):");
        foreach (var op in operations.TakeLast(Shown))
        {
            text.Append("\n    ").Append(op);
        }
        return text.ToString();
    }
}
