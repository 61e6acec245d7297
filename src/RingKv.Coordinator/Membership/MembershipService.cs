using Microsoft.Extensions.Logging;
using RingKv.Core.Cluster;
using RingKv.Core.Ring;
using RingKv.Node.Membership;

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
    private ClusterMap _map;
    private TaskCompletionSource _changed = NewSignal();

    public MembershipService(ClusterMapStore store, int replicationFactor, int tokensPerNode, MemberHealthTable health, ILogger<MembershipService> logger)
    {
        _store = store;
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

    /// <summary>Admits a node, or re-admits a restarted member (its URLs may have changed).</summary>
    public JoinReply Admit(JoinRequest request)
    {
        lock (_changeLock)
        {
            var map = _map;
            if (request.Id is { } id && map.FindMember(id) is { } existing)
            {
                if (existing.ClientUrl != request.ClientUrl || existing.InternodeUrl != request.InternodeUrl)
                {
                    var moved = new ClusterMember(existing.Id, existing.Number, request.ClientUrl, request.InternodeUrl, existing.State, existing.Tokens);
                    Publish(new ClusterMap(map.Epoch + 1, map.ReplicationFactor, map.Members.Select(m => m.Id == id ? moved : m).ToArray(), map.HighestMemberNumber));
                    LogMemberMoved(_logger, id, request.ClientUrl, _map.Epoch);
                }
                _health.RecordProcess(id, request.ProcessId);
                return new JoinReply(id, existing.Number, _map.Epoch);
            }
            var number = map.NextMemberNumber;
            var newId = request.Id is { } wanted && IsValidId(wanted) ? wanted : "n" + number.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var tokens = _allocator.AllocateTokens(map.Ring, newId);
            var member = new ClusterMember(newId, number, request.ClientUrl, request.InternodeUrl, MemberState.Up, tokens);
            Publish(map.WithMember(member));
            _health.RecordProcess(newId, request.ProcessId);
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
        return true;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Admitted {Id} (number {Number}) at {ClientUrl}; epoch {Epoch}")]
    private static partial void LogAdmitted(ILogger logger, string id, uint number, string clientUrl, long epoch);

    [LoggerMessage(Level = LogLevel.Information, Message = "Member {Id} restarted at {ClientUrl}; epoch {Epoch}")]
    private static partial void LogMemberMoved(ILogger logger, string id, string clientUrl, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cluster was created with replication factor {Kept}; ignoring the requested {Requested}")]
    private static partial void LogReplicationFactorKept(ILogger logger, int kept, int requested);
}
