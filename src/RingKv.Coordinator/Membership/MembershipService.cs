using Microsoft.Extensions.Logging;
using RingKv.Coordinator.Consensus;
using RingKv.Core.Cluster;
using RingKv.Core.Membership;
using RingKv.Core.Ring;
using RingKv.Node.Membership;
using RingKv.Node.Security;

namespace RingKv.Coordinator.Membership;

/// <summary>
/// The coordinator's authority over membership: admits nodes (a node never adds itself), gives
/// them balanced tokens, commits every change with a new epoch to the control log (a file for a
/// single coordinator, Raft for a group), and publishes the map to nodes that long-poll for it.
/// Changes are made by the leader only and serialized by one lock; readers take the current
/// immutable snapshot without locking. On a follower the map is whatever the log applied last.
/// </summary>
public sealed partial class MembershipService
{
    private readonly SemaphoreSlim _changeLock = new(1, 1);
    private readonly IControlLog _log;
    private readonly TokenAllocator _allocator;
    private readonly MemberHealthTable _health;
    private readonly ILogger<MembershipService> _logger;
    private readonly FailureDetector _detector;
    private readonly TimeProvider _time;
    private readonly AuditLog _audit;
    private readonly int _replicationFactor;
    private readonly LinkedList<MemberTransition> _history = new();
    private ControlState _state;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Transitions kept for operators (GET /v1/cluster), newest last.</summary>
    public const int HistoryLength = 200;

    public MembershipService(IControlLog log, FailureDetector detector, TimeProvider time, int replicationFactor, int tokensPerNode, MemberHealthTable health, AuditLog audit, ILogger<MembershipService> logger)
    {
        _audit = audit;
        _log = log;
        _detector = detector;
        _time = time;
        _health = health;
        _logger = logger;
        _replicationFactor = replicationFactor;
        _allocator = new TokenAllocator(tokensPerNode);
        _state = log.Current ?? ControlState.Create(replicationFactor);
        log.Applied += OnApplied;
        if (log.Current is { } current)
        {
            OnApplied(current);
        }
    }

    public ClusterMap Map => Volatile.Read(ref _state).Map;

    /// <summary>The whole committed state (map, departed ids, launched nodes, repairs owed).</summary>
    public ControlState State => Volatile.Read(ref _state);

    public IControlLog Log => _log;

    public MemberHealthTable Health => _health;

    public FailureDetector Detector => _detector;

    public IReadOnlyList<MemberTransition> History
    {
        get
        {
            lock (_history)
            {
                return [.. _history];
            }
        }
    }

    /// <summary>Whether a refused id was removed on purpose (stay out) rather than evicted (may rejoin as new).</summary>
    public bool WasRemoved(string id) => State.Departed.GetValueOrDefault(id);

    /// <summary>
    /// Admits a node, or re-admits a restarted member (its URLs may have changed). Null when the node
    /// asks as an evicted member: it must wipe its data and ask again without an id.
    /// <c>StartedJoining</c> is true when a new member was admitted as <c>joining</c>: its ranges
    /// must be transferred before it owns them.
    /// </summary>
    public async Task<(JoinReply? Reply, bool StartedJoining)> AdmitAsync(JoinRequest request, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken);
        try
        {
            var state = State;
            var map = state.Map;
            if (request.Id is { } asked && state.Departed.ContainsKey(asked))
            {
                LogEvictedCameBack(_logger, asked);
                return (null, false);
            }
            if (request.Id is { } id && map.FindMember(id) is { } existing)
            {
                var next = state;
                if (existing.ClientUrl != request.ClientUrl || existing.InternodeUrl != request.InternodeUrl || existing.RespUrl != request.RespUrl)
                {
                    var moved = existing.WithUrls(request.ClientUrl, request.InternodeUrl, request.RespUrl);
                    next = next.WithMap(new ClusterMap(map.Epoch + 1, map.ReplicationFactor, map.Members.Select(m => m.Id == id ? moved : m).ToArray(), map.HighestMemberNumber));
                }
                if (state.Launched.TryGetValue(id, out var pid) && pid != request.ProcessId)
                {
                    next = next.WithLaunched(id, request.ProcessId);
                }
                if (next != state)
                {
                    await CommitAsync(next, cancellationToken);
                    LogMemberMoved(_logger, id, request.ClientUrl, Map.Epoch);
                }
                _health.RecordProcess(id, request.ProcessId);
                _detector.Heartbeat(id, _time.GetUtcNow());
                return (new JoinReply(id, existing.Number, Map.Epoch), false);
            }
            var number = map.NextMemberNumber;
            var newId = request.Id is { } wanted && IsValidId(wanted) && map.FindMember(wanted) is null
                ? wanted
                : "n" + number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // The first member owns the empty ring at once; later ones join in stages: they own their
            // ranges only after those were transferred and verified (MembershipChanges). A joining
            // member gets its tokens only when its change starts (AssignTokens): while it waits in
            // the queue behind another change it is on no ring, so that change's transfers and the
            // writes sent to future owners meanwhile are exactly the ones that change needs.
            var startedJoining = !map.Ring.IsEmpty;
            IReadOnlyList<ulong> tokens = startedJoining ? [] : _allocator.AllocateTokens(map.FutureRing, newId);
            var member = new ClusterMember(newId, number, request.ClientUrl, request.InternodeUrl, startedJoining ? MemberState.Joining : MemberState.Up, tokens, request.RespUrl);
            await CommitAsync(state.WithMap(map.WithMember(member)), cancellationToken);
            _health.RecordProcess(newId, request.ProcessId);
            _detector.Heartbeat(newId, _time.GetUtcNow());
            LogAdmitted(_logger, newId, number, request.ClientUrl, Map.Epoch);
            return (new JoinReply(newId, number, Map.Epoch), startedJoining);
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>Records a heartbeat; false when the sender is not a member (it must join again).</summary>
    public bool Heartbeat(HeartbeatRequest heartbeat)
    {
        if (Map.FindMember(heartbeat.Id) is null)
        {
            return false;
        }
        _health.Record(heartbeat);
        _detector.Heartbeat(heartbeat.Id, _time.GetUtcNow());
        return true;
    }

    /// <summary>Applies the failure detector's state changes as one new epoch, and records them.</summary>
    public async Task ApplyTransitionsAsync(IReadOnlyList<MemberTransition> transitions, CancellationToken cancellationToken)
    {
        if (transitions.Count == 0)
        {
            return;
        }
        await _changeLock.WaitAsync(cancellationToken);
        try
        {
            var current = Map;
            var map = current;
            foreach (var transition in transitions)
            {
                if (map.FindMember(transition.NodeId) is not null)
                {
                    map = map.WithState(transition.NodeId, transition.To);
                }
            }
            if (map.Epoch != current.Epoch)
            {
                await CommitAsync(State.WithMap(new ClusterMap(current.Epoch + 1, map.ReplicationFactor, map.Members, map.HighestMemberNumber)), cancellationToken);
            }
            foreach (var transition in transitions)
            {
                Record(transition);
            }
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>
    /// Gives a joining member its tokens when its change starts, chosen against the ring as it will
    /// be (joining members included, leaving ones out) so that members joining one after another
    /// never pick overlapping tokens and the ring stays balanced after every change.
    /// </summary>
    public async Task<ClusterMap> AssignTokensAsync(string id, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken);
        try
        {
            var map = Map;
            if (map.FindMember(id) is not { State: MemberState.Joining, Tokens.Count: 0 } member)
            {
                return map;
            }
            var tokens = _allocator.AllocateTokens(map.FutureRing, id);
            var placed = member.WithTokens(tokens);
            await CommitAsync(State.WithMap(new ClusterMap(map.Epoch + 1, map.ReplicationFactor, map.Members.Select(m => m.Id == id ? placed : m).ToArray(), map.HighestMemberNumber)), cancellationToken);
            return Map;
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>Sets one member's state (a staged join or decommission moving on, or rolling back).</summary>
    public async Task<ClusterMap> SetStateAsync(string id, MemberState state, string reason, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken);
        try
        {
            var map = Map;
            if (map.FindMember(id) is not { } member || member.State == state)
            {
                return map;
            }
            await CommitAsync(State.WithMap(map.WithState(id, state)), cancellationToken);
            Record(new MemberTransition(id, member.State, state, _time.GetUtcNow(), reason));
            return Map;
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>
    /// Removes a member that left (decommissioned, or a join rolled back). Its id is remembered like
    /// an evicted one: a process coming back under it joins as a new, empty member.
    /// </summary>
    public async Task<ClusterMap> RemoveAsync(string id, string reason, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken);
        try
        {
            var map = Map;
            if (map.FindMember(id) is not { } member)
            {
                return map;
            }
            await CommitAsync(State.WithDeparted(id, removed: true).WithMap(map.WithoutMember(id)), cancellationToken);
            _health.Forget(id);
            _detector.Forget(id);
            Record(new MemberTransition(id, member.State, member.State, _time.GetUtcNow(), "removed: " + reason));
            _audit.MemberRemoved(id, reason, Map.Epoch);
            return Map;
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>
    /// Removes a dead member from the ring (forcefully, as the design note says) and remembers its
    /// id: if it ever comes back it is admitted as a new member, with its old data dropped. The
    /// rebuilding its copies owes is committed with it, so a new leader finishes it. Returns the
    /// maps before and after, for the transfer planner.
    /// </summary>
    public async Task<(ClusterMap Before, ClusterMap After)> EvictAsync(string id, string reason, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken);
        try
        {
            var before = Map;
            var state = before.FindMember(id)?.State ?? MemberState.Dead;
            await CommitAsync(State.WithDeparted(id, removed: false).WithMap(before.WithoutMember(id)).WithRepair(new PendingRepair(id, before)), cancellationToken);
            _health.Forget(id);
            _detector.Forget(id);
            Record(new MemberTransition(id, state, MemberState.Dead, _time.GetUtcNow(), "evicted: " + reason));
            LogEvicted(_logger, id, reason, Map.Epoch);
            _audit.MemberEvicted(id, reason, Map.Epoch);
            return (before, Map);
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>The copies an eviction owed are back: forget the repair.</summary>
    public async Task RepairDoneAsync(string evictedId, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken);
        try
        {
            if (State.Repairs.Any(r => r.EvictedId == evictedId))
            {
                await CommitAsync(State.WithoutRepair(evictedId), cancellationToken);
            }
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>Records the process a node the group started runs as now (it was started again).</summary>
    public async Task RecordLaunchedAsync(string id, int processId, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken);
        try
        {
            if (Map.FindMember(id) is not null && State.Launched.GetValueOrDefault(id) != processId)
            {
                await CommitAsync(State.WithLaunched(id, processId), cancellationToken);
            }
        }
        finally
        {
            _changeLock.Release();
        }
    }

    private void Record(MemberTransition transition)
    {
        // Failure-detector transitions are warnings (an operator must see a node going quiet);
        // the steps of a join or decommission are routine.
        if (transition.From is MemberState.Suspect or MemberState.Dead || transition.To is MemberState.Suspect or MemberState.Dead)
        {
            LogTransition(_logger, transition.NodeId, transition.From, transition.To, transition.Reason);
        }
        else
        {
            LogRoutineTransition(_logger, transition.NodeId, transition.From, transition.To, transition.Reason);
        }
        lock (_history)
        {
            _history.AddLast(transition);
            if (_history.Count > HistoryLength)
            {
                _history.RemoveFirst();
            }
        }
    }

    /// <summary>The map once its epoch is above <paramref name="after"/>, or null after <paramref name="wait"/>.</summary>
    public async Task<ClusterMap?> WaitForNewerAsync(long after, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var signal = Volatile.Read(ref _changed);
            var map = Map;
            if (map.Epoch > after)
            {
                return map;
            }
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return null;
            }
            try
            {
                await signal.Task.WaitAsync(remaining, cancellationToken);
            }
            catch (TimeoutException)
            {
                return null;
            }
        }
    }

    /// <summary>Whether a member id is one the coordinator would hand out itself: short, safe as a folder name.</summary>
    public static bool IsValidId(string id) =>
        id.Length is > 0 and <= 32 && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    /// <summary>
    /// Commits a new state through the control log; it becomes visible (and long-polls wake) when
    /// the log applies it, so a node never sees a map that a crash or a lost election could take back.
    /// </summary>
    private Task CommitAsync(ControlState next, CancellationToken cancellationToken) => _log.ProposeAsync(next, cancellationToken);

    private void OnApplied(ControlState state)
    {
        if (state.Map.ReplicationFactor != _replicationFactor && Volatile.Read(ref _state).Map.Epoch == 0 && state.Map.Epoch > 0)
        {
            LogReplicationFactorKept(_logger, state.Map.ReplicationFactor, _replicationFactor);
        }
        Volatile.Write(ref _state, state);
        Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Node {Id}: {From} -> {To} ({Reason})")]
    private static partial void LogTransition(ILogger logger, string id, MemberState from, MemberState to, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Node {Id}: {From} -> {To} ({Reason})")]
    private static partial void LogRoutineTransition(ILogger logger, string id, MemberState from, MemberState to, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Evicted {Id} from the ring ({Reason}); epoch {Epoch}")]
    private static partial void LogEvicted(ILogger logger, string id, string reason, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Evicted member {Id} came back: told to drop its data and join as a new member")]
    private static partial void LogEvictedCameBack(ILogger logger, string id);

    [LoggerMessage(Level = LogLevel.Information, Message = "Admitted {Id} (number {Number}) at {ClientUrl}; epoch {Epoch}")]
    private static partial void LogAdmitted(ILogger logger, string id, uint number, string clientUrl, long epoch);

    [LoggerMessage(Level = LogLevel.Information, Message = "Member {Id} restarted at {ClientUrl}; epoch {Epoch}")]
    private static partial void LogMemberMoved(ILogger logger, string id, string clientUrl, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cluster was created with replication factor {Kept}; ignoring the requested {Requested}")]
    private static partial void LogReplicationFactorKept(ILogger logger, int kept, int requested);
}
