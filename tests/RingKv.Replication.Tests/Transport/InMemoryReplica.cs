using RingKv.Core.Versioning;
using RingKv.Node.Internode;
using RingKv.Storage;
using RingKv.Storage.Hints;

namespace RingKv.Replication.Tests.Transport;

/// <summary>
/// One node's replica as its peers reach it: what the internode service does on receipt, over the
/// node's own engine, hint store and clock (every timestamp received advances the clock; one too
/// far ahead is refused; a stale write advances it past the version kept).
/// </summary>
public sealed class InMemoryReplica(string url, IStorageEngine engine, IHintStore hints, HybridLogicalClock clock)
{
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly List<Action> _held = [];
    private Fault _fault = Fault.None;

    public string Url { get; } = url;

    public IStorageEngine Engine { get; } = engine;

    public IHintStore Hints { get; } = hints;

    public HybridLogicalClock Clock { get; } = clock;

    public Fault Fault
    {
        get => Volatile.Read(ref _fault);
        set => Volatile.Write(ref _fault, value);
    }

    /// <summary>When set, the outcome this replica answers for a write instead of storing it (null: store as usual).</summary>
    public Func<StoredEntry, ReplicaWriteOutcome?>? WriteOverride { get; set; }

    /// <summary>Calls received of a kind (write, hint, read, list, range-tree, stream-range), whether answered or not.</summary>
    public int Calls(string kind)
    {
        lock (_calls)
        {
            return _calls.GetValueOrDefault(kind);
        }
    }

    public int HeldCount
    {
        get
        {
            lock (_held)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>Answers the held calls, in the order they came or reversed, and answers later calls at once.</summary>
    public void Release(bool reversed = false)
    {
        Action[] held;
        lock (_held)
        {
            held = [.. _held];
            _held.Clear();
            Fault = Fault.None;
        }
        if (reversed)
        {
            Array.Reverse(held);
        }
        foreach (var answer in held)
        {
            answer();
        }
    }

    internal void Count(string kind)
    {
        lock (_calls)
        {
            _calls[kind] = _calls.GetValueOrDefault(kind) + 1;
        }
    }

    internal void Hold(Action answer)
    {
        lock (_held)
        {
            _held.Add(answer);
        }
    }

    /// <summary>A replica write, or with <paramref name="hintOwner"/> a hint for that down owner.</summary>
    internal ReplicaWriteOutcome Receive(StoredEntry entry, string? hintOwner)
    {
        if (!Clock.TryObserve(entry.Version.Timestamp))
        {
            return ReplicaWriteOutcome.TooFarAhead;
        }
        if (WriteOverride?.Invoke(entry) is { } outcome)
        {
            return outcome;
        }
        if (hintOwner is not null)
        {
            return Hints.AddAsync(hintOwner, entry).AsTask().GetAwaiter().GetResult() ? ReplicaWriteOutcome.Applied : ReplicaWriteOutcome.HintRefused;
        }
        var result = Engine.WriteAsync(entry, WritePrecondition.None).AsTask().GetAwaiter().GetResult();
        if (result.Status == WriteStatus.Stale)
        {
            Clock.TryObserve(result.Current.Timestamp);
            return ReplicaWriteOutcome.Stale;
        }
        return ReplicaWriteOutcome.Applied;
    }
}
