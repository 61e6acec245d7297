using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RingKv.Core.Cluster;
using RingKv.Core.Versioning;
using RingKv.Node.Data;
using RingKv.Node.Hosting;
using RingKv.Node.Internode;
using RingKv.Node.Membership;
using RingKv.Node.Observability;
using RingKv.Storage;
using RingKv.Storage.Hints;

namespace RingKv.Node.Replication;

/// <summary>
/// The request coordinator (Dynamo §4.5): the node that receives a client request sends a write to
/// all replicas of the key's preference list in parallel and waits for W acknowledgements; it sends
/// a read to R of them (more if one fails or is slow) and answers with the newest version.
/// Replicas that answered a read with an older version are repaired in the background (read repair).
/// Split by flow: reads (<c>.Read</c>, one <see cref="ReadRound"/> each), writes and their re-stamps
/// (<c>.Write</c>, one <see cref="WriteRound"/> per attempt). Peers are reached through
/// <see cref="IReplicaTransport"/> only.
/// </summary>
public sealed partial class ReplicatedKeyValueService : IKeyValueService
{
    private readonly IStorageEngine _local;
    private readonly IHintStore _hints;
    private readonly ClusterView _view;
    private readonly IReplicaTransport _peers;
    private readonly HybridLogicalClock _clock;
    private readonly NodeOptions _options;
    private readonly NodeMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private MapFacts? _facts;

    public ReplicatedKeyValueService(
        IStorageEngine local,
        IHintStore hints,
        ClusterView view,
        IReplicaTransport peers,
        HybridLogicalClock clock,
        NodeOptions options,
        NodeMetrics metrics,
        TimeProvider time,
        ILogger<ReplicatedKeyValueService> logger)
    {
        _local = local;
        _hints = hints;
        _view = view;
        _peers = peers;
        _clock = clock;
        _options = options;
        _metrics = metrics;
        _time = time;
        _logger = logger;
    }

    public int ReplicationFactor => _view.Map?.ReplicationFactor ?? 3;

    public async ValueTask<KeyPage> ListKeysAsync(string prefix, ScanPosition after, int limit, CancellationToken cancellationToken)
    {
        var map = RequireMap();
        var members = map.Members.Where(m => m.State != MemberState.Joining).ToList();
        var calls = members.Select(member => ListMemberAsync(member, prefix, after, limit, cancellationToken)).ToList();
        var slices = (await Task.WhenAll(calls)).Where(slice => slice is not null).Select(slice => slice!).ToList();
        // Every key lives on RF nodes: a listing stays complete while fewer than RF of them are missing.
        if (members.Count - slices.Count >= map.ReplicationFactor)
        {
            throw new InsufficientReplicasException("list", members.Count - map.ReplicationFactor + 1, slices.Count, members.Count);
        }
        return ListMerge.Merge(slices, limit);
    }

    private async Task<LocalListing.Slice?> ListMemberAsync(ClusterMember member, string prefix, ScanPosition after, int limit, CancellationToken cancellationToken)
    {
        try
        {
            if (member.Id == _view.SelfId)
            {
                return LocalListing.Read(_local, prefix, after, limit);
            }
            return await _peers.For(member.InternodeUrl).ListAsync(prefix, after, limit, cancellationToken);
        }
        catch (ReplicaCallException ex)
        {
            LogReplicaFailed(_logger, "list", member.Id, ex.Message);
            return null;
        }
    }

    private ClusterMap RequireMap()
    {
        var map = _view.Map ?? throw new NodeNotReadyException("This node has not received a cluster map from the coordinator yet.");
        if (_view.SelfId is { } self && map.FindMember(self) is null)
        {
            // Evicted (or not yet re-admitted): its replica may be stale, so it coordinates nothing.
            throw new NodeNotReadyException($"This node ({self}) is not a member of the cluster at epoch {map.Epoch}.");
        }
        return map;
    }

    /// <summary>Waits for a round's decision until the deadline; a round not decided by then is judged on what came in.</summary>
    private async Task WaitAsync(Task decided, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await decided.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Deadline passed: the outcome is what the replicas answered by then.
        }
    }

    /// <summary>How a replica call that failed shows in the replica-response metric.</summary>
    private static string FailureOutcome(Exception ex) => ex switch
    {
        ReplicaCallException { Failure: ReplicaFailure.Timeout } => "timeout",
        // Refused before it was sent: too many bytes already wait for that peer.
        ReplicaCallException { Failure: ReplicaFailure.Backlogged } => "backlogged",
        // The replica's disk is full or its engine is being reopened: it stored nothing.
        ReplicaCallException { Failure: ReplicaFailure.StorageRefused } => "storage-refused",
        _ => "error",
    };

    /// <summary>The key's preference list as replica targets; shared, never to be changed.</summary>
    private IReadOnlyList<ReplicaTarget> Replicas(ClusterMap map, ulong token) => Facts(map).TargetsOf(map.Ring.PreferenceList(token, map.ReplicationFactor), this).All;

    private ReplicaTarget Target(ClusterMap map, string id, string? standsInFor = null)
    {
        var member = map.FindMember(id);
        return new ReplicaTarget(id, member?.InternodeUrl ?? string.Empty, id == _view.SelfId, member?.State ?? MemberState.Dead, standsInFor);
    }

    /// <summary>What every write needs to know of a map, computed once per map rather than per request.</summary>
    private MapFacts Facts(ClusterMap map)
    {
        var facts = Volatile.Read(ref _facts);
        if (facts?.Map != map)
        {
            facts = new MapFacts(
                map,
                map.Members.Where(m => m.State != MemberState.Up).Select(m => m.Id).ToHashSet(StringComparer.Ordinal),
                map.Members.Any(m => m.State is MemberState.Joining or MemberState.Leaving));
            Volatile.Write(ref _facts, facts);
        }
        return facts;
    }

    /// <param name="Unavailable">Members not up: their writes go to fallbacks as hints.</param>
    /// <param name="Changing">Members joining or leaving: writes also go to the keys' future owners.</param>
    private sealed record MapFacts(ClusterMap Map, IReadOnlySet<string> Unavailable, bool Changing)
    {
        // The ring shares one preference list per vnode, so lists are told apart by reference: a
        // few hundred per map. Cleared past a bound in case a ring ever hands out new lists.
        private readonly ConcurrentDictionary<IReadOnlyList<string>, PreferenceTargets> _targets = new(ReferenceEqualityComparer.Instance);

        /// <summary>A preference list's replica targets, made once per list and map rather than per request.</summary>
        public PreferenceTargets TargetsOf(IReadOnlyList<string> ids, ReplicatedKeyValueService service)
        {
            if (_targets.TryGetValue(ids, out var targets))
            {
                return targets;
            }
            if (_targets.Count > MaxCachedPreferenceLists)
            {
                _targets.Clear();
            }
            ReplicaTarget[] all = [.. ids.Select(id => service.Target(Map, id))];
            // Reads ask live replicas only, this node's own copy first: it costs no message.
            ReplicaTarget[] readOrder = [.. all.Where(r => r.IsSelf), .. all.Where(r => !r.IsSelf && r.State is MemberState.Up)];
            targets = new PreferenceTargets(all, readOrder);
            _targets[ids] = targets;
            return targets;
        }
    }

    /// <param name="All">The preference list, in order.</param>
    /// <param name="ReadOrder">The replicas a read asks: this node first if it is one, then the others that are up.</param>
    private sealed record PreferenceTargets(ReplicaTarget[] All, ReplicaTarget[] ReadOrder);

    private const int MaxCachedPreferenceLists = 65_536;

    /// <param name="NotStored">Whether (and why) a replica that answered did not store the written entry.</param>
    private sealed record ReplicaAnswer(ReplicaTarget Replica, StoredEntry? Entry, NotStored NotStored = NotStored.No);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {NodeId} failed a {Operation}: {Reason}")]
    private static partial void LogReplicaFailed(ILogger logger, string operation, string nodeId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Read repair failed")]
    private static partial void LogReadRepairFailed(ILogger logger, Exception exception);
}
