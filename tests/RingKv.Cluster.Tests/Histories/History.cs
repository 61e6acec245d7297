using System.Collections.Concurrent;

namespace RingKv.Cluster.Tests.Histories;

/// <summary>Every client operation of a scenario, recorded as it ends; safe for concurrent clients.</summary>
public sealed class History
{
    private readonly ConcurrentQueue<Operation> _operations = new();
    private long _sequence;

    public Operation Record(int client, OperationKind kind, string key, string? value, DateTime start, DateTime end, Outcome outcome, bool openEnded, string? observed, string detail)
    {
        var operation = new Operation(Interlocked.Increment(ref _sequence), client, kind, key, value, start, end, outcome, openEnded, observed, detail);
        _operations.Enqueue(operation);
        return operation;
    }

    public IReadOnlyList<Operation> Operations => [.. _operations.OrderBy(o => o.Sequence)];

    /// <summary>Counts per kind and outcome, e.g. "put ok 812, put unknown 14, get ok 433, ...".</summary>
    public string Summary() => string.Join(", ", Operations
        .GroupBy(o => (o.Kind, o.Outcome))
        .OrderBy(g => g.Key.Kind).ThenBy(g => g.Key.Outcome)
        .Select(g => $"{g.Key.Kind.ToString().ToLowerInvariant()} {g.Key.Outcome.ToString().ToLowerInvariant()} {g.Count()}"));
}
