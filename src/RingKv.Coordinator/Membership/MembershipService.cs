using Microsoft.Extensions.Logging;
using RingKv.Core.Cluster;
using RingKv.Core.Membership;
using RingKv.Core.Ring;
using RingKv.Node.Membership;
using RingKv.Node.Security;

namespace RingKv.Coordinator.Membership;

/// <summary>
/// The coordinator's authority over membership: admits nodes (a node never adds itself), gives
/// them balanced tokens, persists every change with a new epoch, and publishes the map to nodes
/// that long-poll for it. Changes are serialized by one lock; readers take the current immutable
/// snapshot without locking.
/// </summary>
public sealed partial class MembershipService
{
    private readonly object _changeLock = new();
    private readonly ClusterMapStore _store;
    private readonly TokenAllocator _allocator;
    private readonly MemberHealthTable _health;
    private readonly ILogger<MembershipService> _logger;
    private readonly FailureDetector _detector;
    private readonly EvictedMembers _evicted;
    private readonly TimeProvider _time;
    private readonly AuditLog _audit;
    private readonly LinkedList<MemberTransition> _history = new();
    private ClusterMap _map;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>Transitions kept for operators (GET /v1/cluster), newest last.</summary>
    public const int HistoryLength = 200;

    public MembershipService(ClusterMapStore store, EvictedMembers evicted, FailureDetector detector, TimeProvider time, int replicationFactor, int tokensPerNode, MemberHealthTable health, AuditLog audit, ILogger<MembershipService> logger)
    {
        _audit = audit;
        _store = store;
        _evicted = evicted;
        _detector = detector;
        _time = time;
        _health = health;
        _logger = logger;
        _allocator = new TokenAllocator(tokensPerNode);
        var loaded = store.Load();
        if (loaded is not null && loaded.ReplicationFactor != replicationFactor)
        {
            LogReplicationFactorKept(logger, loaded.ReplicationFactor, replicationFactor);
        }
        _map = loaded ?? ClusterMap.Create(replicationFactor);
        if (loaded is null)
        {
            store.Save(_map);
        }
    }

    public ClusterMap Map => Volatile.Read(ref _map);

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

    /// <summary>
    /// Admits a node, or re-admits a restarted member (its URLs may have changed). Null when the node
    /// asks as an evicted member: it must wipe its data and ask again without an id.
    /// </summary>
    public JoinReply? Admit(JoinRequest request) => Admit(request, out _);

    /// <summary>Whether a refused id was removed on purpose (stay out) rather than evicted (may rejoin as new).</summary>
    public bool WasRemoved(string id) => _evicted.WasRemoved(id);

    /// <param name="startedJoining">True when a new member was admitted as <c>joining</c>: its ranges must be transferred before it owns them.</param>
    public JoinReply? Admit(JoinRequest request, out bool startedJoining)
    {
        startedJoining = false;
        lock (_changeLock)
        {
            var map = _map;
            if (request.Id is { } asked && _evicted.Contains(asked))
            {
                LogEvictedCameBack(_logger, asked);
                return null;
            }
            if (request.Id is { } id && map.FindMember(id) is { } existing)
            {
                if (existing.ClientUrl != request.ClientUrl || existing.InternodeUrl != request.InternodeUrl || existing.RespUrl != request.RespUrl)
                {
                    var moved = existing.WithUrls(request.ClientUrl, request.InternodeUrl, request.RespUrl);
                    Publish(new ClusterMap(map.Epoch + 1, map.ReplicationFactor, map.Members.Select(m => m.Id == id ? moved : m).ToArray(), map.HighestMemberNumber));
                    LogMemberMoved(_logger, id, request.ClientUrl, _map.Epoch);
                }
                _health.RecordProcess(id, request.ProcessId);
                return new JoinReply(id, existing.Number, _map.Epoch);
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
            startedJoining = !map.Ring.IsEmpty;
            IReadOnlyList<ulong> tokens = startedJoining ? [] : _allocator.AllocateTokens(map.FutureRing, newId);
            var member = new ClusterMember(newId, number, request.ClientUrl, request.InternodeUrl, startedJoining ? MemberState.Joining : MemberState.Up, tokens, request.RespUrl);
            Publish(map.WithMember(member));
            _health.RecordProcess(newId, request.ProcessId);
            _detector.Heartbeat(newId, _time.GetUtcNow());
            LogAdmitted(_logger, newId, number, request.ClientUrl, _map.Epoch);
            return new JoinReply(newId, number, _map.Epoch);
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
    public void ApplyTransitions(IReadOnlyList<MemberTransition> transitions)
    {
        if (transitions.Count == 0)
        {
            return;
        }
        lock (_changeLock)
        {
            var map = _map;
            foreach (var transition in transitions)
            {
                if (map.FindMember(transition.NodeId) is not null)
                {
                    map = map.WithState(transition.NodeId, transition.To);
                }
                Record(transition);
            }
            if (map.Epoch != _map.Epoch)
            {
                Publish(new ClusterMap(_map.Epoch + 1, map.ReplicationFactor, map.Members, map.HighestMemberNumber));
            }
        }
    }

    /// <summary>
    /// Gives a joining member its tokens when its change starts, chosen against the ring as it will
    /// be (joining members included, leaving ones out) so that members joining one after another
    /// never pick overlapping tokens and the ring stays balanced after every change.
    /// </summary>
    public ClusterMap AssignTokens(string id)
    {
        lock (_changeLock)
        {
            if (_map.FindMember(id) is not { State: MemberState.Joining, Tokens.Count: 0 } member)
            {
                return _map;
            }
            var tokens = _allocator.AllocateTokens(_map.FutureRing, id);
            var placed = member.WithTokens(tokens);
            Publish(new ClusterMap(_map.Epoch + 1, _map.ReplicationFactor, _map.Members.Select(m => m.Id == id ? placed : m).ToArray(), _map.HighestMemberNumber));
            return _map;
        }
    }

    /// <summary>Sets one member's state (a staged join or decommission moving on, or rolling back).</summary>
    public ClusterMap SetState(string id, MemberState state, string reason)
    {
        lock (_changeLock)
        {
            if (_map.FindMember(id) is not { } member || member.State == state)
            {
                return _map;
            }
            Publish(_map.WithState(id, state));
            Record(new MemberTransition(id, member.State, state, _time.GetUtcNow(), reason));
            return _map;
        }
    }

    /// <summary>
    /// Removes a member that left (decommissioned, or a join rolled back). Its id is remembered like
    /// an evicted one: a process coming back under it joins as a new, empty member.
    /// </summary>
    public ClusterMap Remove(string id, string reason)
    {
        lock (_changeLock)
        {
            if (_map.FindMember(id) is not { } member)
            {
                return _map;
            }
            _evicted.Add(id, removed: true);
            Publish(_map.WithoutMember(id));
            _health.Forget(id);
            _detector.Forget(id);
            Record(new MemberTransition(id, member.State, member.State, _time.GetUtcNow(), "removed: " + reason));
            _audit.MemberRemoved(id, reason, _map.Epoch);
            return _map;
        }
    }

    /// <summary>
    /// Removes a dead member from the ring (forcefully, as the design note says) and remembers its
    /// id: if it ever comes back it is admitted as a new member, with its old data dropped.
    /// Returns the maps before and after, for the transfer planner.
    /// </summary>
    public (ClusterMap Before, ClusterMap After) Evict(string id, string reason)
    {
        lock (_changeLock)
        {
            var before = _map;
            var state = before.FindMember(id)?.State ?? MemberState.Dead;
            _evicted.Add(id);
            Publish(before.WithoutMember(id));
            _health.Forget(id);
            _detector.Forget(id);
            Record(new MemberTransition(id, state, MemberState.Dead, _time.GetUtcNow(), "evicted: " + reason));
            LogEvicted(_logger, id, reason, _map.Epoch);
            _audit.MemberEvicted(id, reason, _map.Epoch);
            return (before, _map);
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

    /// <summary>Persists, then swaps the snapshot, then wakes the long-polls: a node never sees a map that a crash could take back.</summary>
    private void Publish(ClusterMap map)
    {
        _store.Save(map);
        Volatile.Write(ref _map, map);
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
