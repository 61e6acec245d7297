using RingKv.Core.Versioning;
using RingKv.Node.Internode;
using RingKv.Storage;
using RingKv.Storage.Hints;

namespace RingKv.Replication.Tests.Transport;

/// <summary>
/// Peers' replicas in one process, reached through <see cref="InMemoryReplicaTransport"/>: what
/// Orleans' in-memory transport and etcd raft's test network are to theirs. Each replica answers
/// at once, inline, unless told otherwise (<see cref="Fault"/>): held until released (in order or
/// reversed), failed, dropped (failed as a timeout once the transport's deadline passes on the
/// fake clock), delayed, or backlogged (refused before sending).
/// </summary>
public sealed class InMemoryNetwork(TimeProvider time, TimeSpan callTimeout)
{
    private readonly Dictionary<string, InMemoryReplica> _replicas = new(StringComparer.Ordinal);
    // Timers of delayed and dropped calls: kept so they are not collected before they fire.
    private readonly List<ITimer> _timers = [];

    public InMemoryReplica Add(string url, IStorageEngine engine, IHintStore hints, HybridLogicalClock clock)
    {
        var replica = new InMemoryReplica(url, engine, hints, clock);
        lock (_replicas)
        {
            _replicas.Add(url, replica);
        }
        return replica;
    }

    public InMemoryReplica this[string url]
    {
        get
        {
            lock (_replicas)
            {
                return _replicas.TryGetValue(url, out var replica) ? replica : throw new ArgumentException($"No replica at {url}.", nameof(url));
            }
        }
    }

    /// <summary>The transport of the node whose clock is <paramref name="senderClock"/>: replies advance it, as a reply's header does.</summary>
    public InMemoryReplicaTransport TransportFor(HybridLogicalClock senderClock) => new(this, senderClock);

    /// <summary>Runs a call to <paramref name="to"/> as its fault says: <paramref name="answer"/> runs at the replica and completes the call.</summary>
    internal void Deliver(InMemoryReplica to, string kind, Action answer, Action<ReplicaCallException> fail)
    {
        to.Count(kind);
        var fault = to.Fault;
        switch (fault.Kind)
        {
            case FaultKind.None:
                answer();
                break;
            case FaultKind.Hold:
                to.Hold(answer);
                break;
            case FaultKind.Fail or FaultKind.Backlog:
                fail(new ReplicaCallException(fault.Failure, $"{to.Url} failed the call (test fault)."));
                break;
            case FaultKind.Drop:
                After(callTimeout, () => fail(new ReplicaCallException(ReplicaFailure.Timeout, $"No reply from {to.Url} within {callTimeout.TotalSeconds:0.#} s.")));
                break;
            case FaultKind.Delay:
                After(fault.Delay, answer);
                break;
        }
    }

    private void After(TimeSpan due, Action action)
    {
        ITimer? timer = null;
        timer = time.CreateTimer(_ =>
        {
            action();
            timer?.Dispose();
        }, null, due, Timeout.InfiniteTimeSpan);
        lock (_timers)
        {
            _timers.Add(timer);
        }
    }
}

public enum FaultKind
{
    None,
    Hold,
    Fail,
    Drop,
    Delay,
    Backlog,
}

/// <summary>How a replica treats the calls it gets.</summary>
public sealed record Fault(FaultKind Kind, ReplicaFailure Failure = ReplicaFailure.Error, TimeSpan Delay = default)
{
    public static Fault None => new(FaultKind.None);

    /// <summary>Calls wait until <see cref="InMemoryReplica.Release"/>.</summary>
    public static Fault Hold => new(FaultKind.Hold);

    /// <summary>Calls fail at once (a refused connection, an error from the peer).</summary>
    public static Fault Fail(ReplicaFailure failure = ReplicaFailure.Error) => new(FaultKind.Fail, failure);

    /// <summary>Calls are never answered: they fail as timeouts once the transport's deadline passes on the clock (a silent or paused peer).</summary>
    public static Fault Drop => new(FaultKind.Drop);

    /// <summary>Calls are answered once <paramref name="delay"/> has passed on the clock.</summary>
    public static Fault Delayed(TimeSpan delay) => new(FaultKind.Delay, Delay: delay);

    /// <summary>Writes are refused before they are sent: too much already waits for this peer.</summary>
    public static Fault Backlogged => new(FaultKind.Backlog, ReplicaFailure.Backlogged);
}
