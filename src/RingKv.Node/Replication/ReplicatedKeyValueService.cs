using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RingKv.Core.Cluster;
using RingKv.Core.Versioning;
using RingKv.Node.Data;
using RingKv.Node.Hosting;
using RingKv.Node.Internode;
using RingKv.Node.Internode.Protocol;
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
/// </summary>
public sealed partial class ReplicatedKeyValueService(
    IStorageEngine local,
    IHintStore hints,
    ClusterView view,
    PeerClients peers,
    HybridLogicalClock clock,
    NodeOptions options,
    NodeMetrics metrics,
    TimeProvider time,
    ILogger<ReplicatedKeyValueService> logger) : IKeyValueService
{
    // For the read and write rounds (nested classes), which cannot see the constructor's parameters.
    private IStorageEngine Local => local;

    private PeerClients Peers => peers;

    private HybridLogicalClock Clock => clock;

    private NodeOptions Options => options;

    private NodeMetrics Metrics => metrics;

    private ILogger Logger => logger;

    /// <summary>How long a read waits for its first R replicas before it asks the others too.</summary>
    private static readonly TimeSpan SpeculativeReadDelay = TimeSpan.FromMilliseconds(50);

    private MapFacts? _facts;

    public int ReplicationFactor => view.Map?.ReplicationFactor ?? 3;

    public async ValueTask<StoredEntry?> GetAsync(string key, int? readQuorum, CancellationToken cancellationToken)
    {
        var map = RequireMap();
        var token = Core.Hashing.KeyToken.Of(key);
        var targets = Facts(map).TargetsOf(map.Ring.PreferenceList(token, map.ReplicationFactor), this);
        // Replicas known to be down are not asked: a read must not wait for their timeouts.
        var replicas = targets.ReadOrder;
        var required = Math.Min(readQuorum ?? Api.QuorumParameters.Majority(map.ReplicationFactor), targets.All.Length);
        if (replicas.Length < required)
        {
            throw new InsufficientReplicasException("read", required, replicas.Length, map.ReplicationFactor);
        }
        // R replicas are asked first (this node's own copy first: it costs no message); the others
        // only when one of those fails or is slow (Cassandra's speculative retry). Quorum
        // intersection needs R answers, not all of them, and asking every replica made each read
        // cost a third more work on the replicas. The replica not asked is brought up to date by
        // anti-entropy, or by a later read that asks it.
        var started = time.GetTimestamp();
        var round = new ReadRound(this, key, replicas, required);
        round.Start();
        // Without a replica in reserve there is nothing to speculate with: the first wait is the whole one.
        await WaitAsync(round.Decided, round.HasSpares ? Min(SpeculativeReadDelay, options.RequestTimeout) : options.RequestTimeout, cancellationToken);
        var (reached, newest, answered) = round.Outcome();
        if (!reached && round.HasSpares)
        {
            metrics.ReplicaResponse("read", "speculative");
            round.AskTheRest();
            var left = options.RequestTimeout - time.GetElapsedTime(started);
            await WaitAsync(round.Decided, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
            (reached, newest, answered) = round.Outcome();
        }
        round.ArmRepair();
        if (!reached)
        {
            throw new InsufficientReplicasException("read", required, answered, replicas.Length);
        }
        return newest;
    }

    /// <summary>Waits for a round's decision until the deadline; a round not decided by then is judged on what came in.</summary>
    private static async Task WaitAsync(Task decided, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await decided.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Deadline passed: the outcome is what the replicas answered by then.
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>How a replica call that failed shows in the replica-response metric.</summary>
    private static string FailureOutcome(Exception ex) => ex switch
    {
        Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.DeadlineExceeded } => "timeout",
        // Refused before it was sent: too many bytes already wait for that peer (PeerClients).
        Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.ResourceExhausted } => "backlogged",
        // The replica's disk is full or its engine is being reopened (InternodeService.Write).
        Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.Unavailable } rpc when rpc.Status.Detail.StartsWith(Internode.InternodeService.StorageRefusedPrefix, StringComparison.Ordinal) => "storage-refused",
        _ => "error",
    };

    public ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, int? writeQuorum, CancellationToken cancellationToken)
    {
        // A node whose disk is full (or whose engine is being reopened) coordinates no writes: it
        // could not keep its own copy, and says so (507) rather than time out on its quorum.
        if (local.GetStorageStatus() is { AcceptsWrites: false } storage)
        {
            throw StorageRefusedException.For(storage);
        }
        // Not an async method itself: an unconditional write (almost all of them) goes straight to
        // the quorum, without a state machine of its own.
        return precondition.Kind == PreconditionKind.None
            ? new ValueTask<WriteResult>(WriteToReplicasAsync(RequireMap(), entry, writeQuorum, cancellationToken))
            : WriteConditionallyAsync(entry, precondition, writeQuorum, cancellationToken);
    }

    private async ValueTask<WriteResult> WriteConditionallyAsync(StoredEntry entry, WritePrecondition precondition, int? writeQuorum, CancellationToken cancellationToken)
    {
        var map = RequireMap();
        // Conditional writes read at quorum first, then write: an AP store cannot make the pair
        // atomic across replicas (docs/API.md says so); on one replica the check is atomic.
        var current = await GetAsync(entry.Key, null, cancellationToken);
        if (!precondition.IsSatisfiedBy(current, time.GetUtcNow().ToUnixTimeMilliseconds()))
        {
            return new WriteResult(WriteStatus.PreconditionFailed, current?.Version ?? default);
        }
        return await WriteToReplicasAsync(map, entry, writeQuorum, cancellationToken);
    }

    private Task<WriteResult> WriteToReplicasAsync(ClusterMap map, StoredEntry entry, int? writeQuorum, CancellationToken cancellationToken)
    {
        var replicas = WriteTargets(map, entry.Token);
        var required = Math.Min(writeQuorum ?? Api.QuorumParameters.Majority(map.ReplicationFactor), Math.Max(1, map.Ring.NodeCount));
        // While members join or leave, the key's future owners get the write too and must
        // acknowledge it (Cassandra's pending endpoints): a write that lands mid-transfer is never
        // missed by the node that will own the key.
        var pending = PendingTargets(map, entry.Token, replicas);
        if (pending.Count > 0)
        {
            required += pending.Count;
            replicas = [.. replicas, .. pending];
        }
        return WriteAtQuorumAsync(map, replicas, required, entry, cancellationToken);
    }

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

    private ClusterMap RequireMap()
    {
        var map = view.Map ?? throw new NodeNotReadyException("This node has not received a cluster map from the coordinator yet.");
        if (view.SelfId is { } self && map.FindMember(self) is null)
        {
            // Evicted (or not yet re-admitted): its replica may be stale, so it coordinates nothing.
            throw new NodeNotReadyException($"This node ({self}) is not a member of the cluster at epoch {map.Epoch}.");
        }
        return map;
    }

    /// <summary>The key's preference list as replica targets; shared, never to be changed.</summary>
    private IReadOnlyList<ReplicaTarget> Replicas(ClusterMap map, ulong token) => Facts(map).TargetsOf(map.Ring.PreferenceList(token, map.ReplicationFactor), this).All;

    /// <summary>
    /// The nodes a write goes to. With sloppy quorum (the default), an owner that is not up is
    /// replaced by the next distinct live node clockwise, which keeps the entry as a hint naming the
    /// owner and hands it off when the owner is up again (Dynamo §4.6); the hinted copy counts
    /// towards W. Without it, only live owners are written and W may not be reachable.
    /// </summary>
    private IReadOnlyList<ReplicaTarget> WriteTargets(ClusterMap map, ulong token)
    {
        var unavailable = Facts(map).Unavailable;
        if (unavailable.Count == 0)
        {
            return Replicas(map, token);
        }
        var targets = new List<ReplicaTarget>(map.ReplicationFactor);
        foreach (var entry in map.Ring.PreferenceList(token, map.ReplicationFactor, unavailable))
        {
            if (entry.IsFallback && !options.SloppyQuorum)
            {
                continue;
            }
            targets.Add(Target(map, entry.NodeId, entry.StandsInFor));
        }
        return targets;
    }

    private List<ReplicaTarget> PendingTargets(ClusterMap map, ulong token, IReadOnlyList<ReplicaTarget> current)
    {
        if (!Facts(map).Changing)
        {
            return [];
        }
        var pending = new List<ReplicaTarget>();
        foreach (var id in map.FutureRing.PreferenceList(token, map.ReplicationFactor))
        {
            if (current.Any(r => r.NodeId == id) || map.FindMember(id) is not { State: MemberState.Joining or MemberState.Up })
            {
                continue;
            }
            pending.Add(Target(map, id));
        }
        return pending;
    }

    /// <summary>
    /// The owner looked up but did not answer (it just died, or is paused): the copy is kept as a
    /// hint on the next live node, so the write still has its replicas' worth of copies.
    /// </summary>
    private async Task<ReplicaAnswer?> FallbackAsync(ClusterMap map, ReplicaTarget replica, StoredEntry entry, string operation)
    {
        var unavailable = new HashSet<string>(Facts(map).Unavailable, StringComparer.Ordinal) { replica.NodeId };
        var fallback = map.Ring.PreferenceList(entry.Token, map.ReplicationFactor, unavailable).FirstOrDefault(e => e.StandsInFor == replica.NodeId);
        if (fallback.NodeId is null || map.FindMember(fallback.NodeId) is null)
        {
            return null;
        }
        return await TryWriteAsync(Target(map, fallback.NodeId, replica.NodeId), entry, operation);
    }

    private async Task<ReplicaAnswer?> TryWriteAsync(ReplicaTarget replica, StoredEntry entry, string operation)
    {
        try
        {
            if (replica.StandsInFor is { } owner)
            {
                var stored = replica.IsSelf
                    ? await hints.AddAsync(owner, entry)
                    : await peers.For(replica.InternodeUrl).WriteHintAsync(entry.ToMessage(), owner) == 0;
                metrics.ReplicaResponse(operation, stored ? "hinted" : "hint-refused");
                return stored ? new ReplicaAnswer(replica, entry) : null;
            }
            if (replica.IsSelf)
            {
                var result = await local.WriteAsync(entry, WritePrecondition.None);
                return result.Status == WriteStatus.Stale ? Stale(replica, entry, result.Current) : new ReplicaAnswer(replica, entry);
            }
            var status = await peers.For(replica.InternodeUrl).WriteAsync(entry.ToMessage());
            metrics.ReplicaResponse(operation, ReplicaWriteOutcome(status));
            return NotStoredBy(replica, entry, status);
        }
        catch (Exception ex) when (ex is Grpc.Core.RpcException or HttpRequestException or OperationCanceledException)
        {
            metrics.ReplicaResponse(operation, FailureOutcome(ex));
            LogReplicaFailed(logger, operation, replica.NodeId, ex.Message);
            return null;
        }
    }

    /// <summary>Brings a replica that answered a read with an older version (or none) up to the newest.</summary>
    private async Task RepairAsync(ReplicaTarget replica, StoredEntry newest)
    {
        try
        {
            await TryWriteAsync(replica, newest, "read-repair");
        }
        catch (Exception ex)
        {
            LogReadRepairFailed(logger, ex);
        }
    }

    private static StoredEntry? Newest(IEnumerable<ReplicaAnswer?> answers)
    {
        StoredEntry? newest = null;
        foreach (var answer in answers)
        {
            if (answer?.Entry is { } entry && (newest is null || entry.Version > newest.Version))
            {
                newest = entry;
            }
        }
        return newest;
    }

    private async Task<LocalListing.Slice?> ListMemberAsync(ClusterMember member, string prefix, ScanPosition after, int limit, CancellationToken cancellationToken)
    {
        try
        {
            if (member.Id == view.SelfId)
            {
                return LocalListing.Read(local, prefix, after, limit);
            }
            var request = new ListRequest { Header = peers.Header(), AfterToken = after.Token, Limit = limit, Prefix = prefix };
            if (after.Key is not null)
            {
                request.HasAfterKey = true;
                request.AfterKey = Google.Protobuf.ByteString.CopyFrom(after.Key);
            }
            var reply = await peers.For(member.InternodeUrl).Client.ListAsync(request, deadline: DateTime.UtcNow + options.RequestTimeout, cancellationToken: cancellationToken);
            metrics.InternodeSent("list", 1);
            peers.Observe(reply.Header);
            var entries = reply.Keys.Select(k => new StoredEntry(k.Key, k.Token, [], StoredEntry.DefaultContentType,
                new EntryVersion(k.Timestamp, k.Writer), Deleted: !k.Live, ExpiresAtMs: 0)).ToList();
            ScanPosition? last = reply.LastKey.IsEmpty ? null : new ScanPosition(reply.LastToken, reply.LastKey.ToByteArray());
            return new LocalListing.Slice(entries, last, reply.More);
        }
        catch (Exception ex) when (ex is Grpc.Core.RpcException or HttpRequestException)
        {
            LogReplicaFailed(logger, "list", member.Id, ex.Message);
            return null;
        }
    }

    private ReplicaTarget Target(ClusterMap map, string id, string? standsInFor = null)
    {
        var member = map.FindMember(id);
        return new ReplicaTarget(id, member?.InternodeUrl ?? string.Empty, id == view.SelfId, member?.State ?? MemberState.Dead, standsInFor);
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
