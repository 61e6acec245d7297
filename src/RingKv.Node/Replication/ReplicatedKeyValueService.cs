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
    /// <summary>How long a read waits for its first R replicas before it asks the others too.</summary>
    private static readonly TimeSpan SpeculativeReadDelay = TimeSpan.FromMilliseconds(50);

    private MapFacts? _facts;

    public int ReplicationFactor => view.Map?.ReplicationFactor ?? 3;

    public async ValueTask<StoredEntry?> GetAsync(string key, int? readQuorum, CancellationToken cancellationToken)
    {
        var map = RequireMap();
        var token = Core.Hashing.KeyToken.Of(key);
        // Replicas known to be down are not asked: a read must not wait for their timeouts.
        var preferenceList = Replicas(map, token);
        var replicas = preferenceList.Where(r => r.State is MemberState.Up || r.IsSelf).ToList();
        var required = Math.Min(readQuorum ?? Api.QuorumParameters.Majority(map.ReplicationFactor), preferenceList.Count);
        if (replicas.Count < required)
        {
            throw new InsufficientReplicasException("read", required, replicas.Count, map.ReplicationFactor);
        }
        // R replicas are asked first (this node's own copy first: it costs no message); the others
        // only when one of those fails or is slow (Cassandra's speculative retry). Quorum
        // intersection needs R answers, not all of them, and asking every replica made each read
        // cost a third more work on the replicas. The replica not asked is brought up to date by
        // anti-entropy, or by a later read that asks it.
        var selfAt = replicas.FindIndex(r => r.IsSelf);
        if (selfAt > 0)
        {
            (replicas[0], replicas[selfAt]) = (replicas[selfAt], replicas[0]);
        }
        var started = time.GetTimestamp();
        var calls = new List<Task<ReplicaAnswer?>>(replicas.Count);
        for (var i = 0; i < required; i++)
        {
            calls.Add(ReadReplicaAsync(replicas[i], key, cancellationToken));
        }
        // Without a replica in reserve there is nothing to speculate with: the first wait is the whole one.
        var spares = replicas.Count > required;
        var (answers, answered) = await QuorumWaiter.WaitAsync(calls, required, spares ? Min(SpeculativeReadDelay, options.RequestTimeout) : options.RequestTimeout, cancellationToken);
        if (answers is null && spares)
        {
            for (var i = required; i < replicas.Count; i++)
            {
                calls.Add(ReadReplicaAsync(replicas[i], key, cancellationToken));
            }
            metrics.ReplicaResponse("read", "speculative");
            var left = options.RequestTimeout - time.GetElapsedTime(started);
            (answers, answered) = await QuorumWaiter.WaitAsync(calls, required, left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken);
        }
        if (answers is null)
        {
            throw new InsufficientReplicasException("read", required, answered, replicas.Count);
        }
        var newest = Newest(answers);
        _ = RepairAfterAllAnswerAsync(calls);
        return newest;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>How a replica call that failed shows in the replica-response metric.</summary>
    private static string FailureOutcome(Exception ex) => ex switch
    {
        Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.DeadlineExceeded } => "timeout",
        // Refused before it was sent: too many bytes already wait for that peer (PeerClients).
        Grpc.Core.RpcException { StatusCode: Grpc.Core.StatusCode.ResourceExhausted } => "backlogged",
        _ => "error",
    };

    public async ValueTask<WriteResult> WriteAsync(StoredEntry entry, WritePrecondition precondition, int? writeQuorum, CancellationToken cancellationToken)
    {
        var map = RequireMap();
        if (precondition.Kind != PreconditionKind.None)
        {
            // Conditional writes read at quorum first, then write: an AP store cannot make the pair
            // atomic across replicas (docs/API.md says so); on one replica the check is atomic.
            var current = await GetAsync(entry.Key, null, cancellationToken);
            if (!precondition.IsSatisfiedBy(current, time.GetUtcNow().ToUnixTimeMilliseconds()))
            {
                return new WriteResult(WriteStatus.PreconditionFailed, current?.Version ?? default);
            }
        }
        var replicas = WriteTargets(map, entry.Token);
        var required = Math.Min(writeQuorum ?? Api.QuorumParameters.Majority(map.ReplicationFactor), Math.Max(1, map.Ring.NodeCount));
        // While members join or leave, the key's future owners get the write too and must
        // acknowledge it (Cassandra's pending endpoints): a write that lands mid-transfer is never
        // missed by the node that will own the key.
        var pending = PendingTargets(map, entry.Token, replicas);
        required += pending.Count;
        replicas.AddRange(pending);
        return await WriteAtQuorumAsync(map, replicas, required, entry, cancellationToken);
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

    private List<ReplicaTarget> Replicas(ClusterMap map, ulong token)
    {
        var ids = map.Ring.PreferenceList(token, map.ReplicationFactor);
        var targets = new List<ReplicaTarget>(ids.Count);
        foreach (var id in ids)
        {
            targets.Add(Target(map, id));
        }
        return targets;
    }

    private async Task<ReplicaAnswer?> ReadReplicaAsync(ReplicaTarget replica, string key, CancellationToken cancellationToken)
    {
        try
        {
            if (replica.IsSelf)
            {
                return new ReplicaAnswer(replica, local.Get(key));
            }
            var reply = await peers.For(replica.InternodeUrl).ReadAsync(key);
            var entry = reply.Found ? reply.Entry.ToEntry(options.MaxKeyBytes, options.MaxValueBytes) : null;
            if (entry is not null && !clock.TryObserve(entry.Version.Timestamp))
            {
                // A copy written by a node whose clock ran far ahead (it keeps its own writes):
                // not an answer, or it would win every read of the key.
                metrics.ClockRefusedEntry("read");
                metrics.ReplicaResponse("read", "refused");
                return null;
            }
            metrics.ReplicaResponse("read", "ack");
            return new ReplicaAnswer(replica, entry);
        }
        catch (Exception ex) when (ex is Grpc.Core.RpcException or HttpRequestException or OperationCanceledException)
        {
            metrics.ReplicaResponse("read", FailureOutcome(ex));
            LogReplicaFailed(logger, "read", replica.NodeId, ex.Message);
            return null;
        }
    }

    /// <summary>
    /// The nodes a write goes to. With sloppy quorum (the default), an owner that is not up is
    /// replaced by the next distinct live node clockwise, which keeps the entry as a hint naming the
    /// owner and hands it off when the owner is up again (Dynamo §4.6); the hinted copy counts
    /// towards W. Without it, only live owners are written and W may not be reachable.
    /// </summary>
    private List<ReplicaTarget> WriteTargets(ClusterMap map, ulong token)
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

    private List<ReplicaTarget> PendingTargets(ClusterMap map, ulong token, List<ReplicaTarget> current)
    {
        if (!Facts(map).Changing)
        {
            return [];
        }
        var pending = new List<ReplicaTarget>();
        foreach (var id in map.FutureRing.PreferenceList(token, map.ReplicationFactor))
        {
            if (current.Exists(r => r.NodeId == id) || map.FindMember(id) is not { State: MemberState.Joining or MemberState.Up })
            {
                continue;
            }
            pending.Add(Target(map, id));
        }
        return pending;
    }

    private async Task<ReplicaAnswer?> WriteReplicaAsync(ClusterMap map, ReplicaTarget replica, StoredEntry entry, string operation, SupersededCount? superseded = null)
    {
        var answer = await TryWriteAsync(replica, entry, operation);
        if (answer is { NotStored: not NotStored.No })
        {
            // The replica answered, so no fallback; but it is not an acknowledgement (WriteAtQuorumAsync).
            if (answer.NotStored == NotStored.Stale)
            {
                superseded?.Add();
            }
            return null;
        }
        if (answer is not null || replica.IsSelf || replica.StandsInFor is not null || !options.SloppyQuorum)
        {
            return answer;
        }
        // The owner looked up but did not answer (it just died, or is paused): keep the copy as a
        // hint on the next live node, so the write still has its replicas' worth of copies.
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

    /// <summary>Once every replica has answered (or failed), brings the ones that answered with an older version up to the newest.</summary>
    private async Task RepairAfterAllAnswerAsync(List<Task<ReplicaAnswer?>> calls)
    {
        try
        {
            var answers = (await Task.WhenAll(calls)).Where(a => a is not null).Select(a => a!).ToList();
            var newest = Newest(answers);
            if (newest is null)
            {
                return;
            }
            foreach (var answer in answers)
            {
                if (answer.Entry is null || answer.Entry.Version < newest.Version)
                {
                    metrics.ReadRepair();
                    await TryWriteAsync(answer.Replica, newest, "read-repair");
                }
            }
        }
        catch (Exception ex)
        {
            LogReadRepairFailed(logger, ex);
        }
    }

    private static StoredEntry? Newest(IEnumerable<ReplicaAnswer> answers)
    {
        StoredEntry? newest = null;
        foreach (var answer in answers)
        {
            if (answer.Entry is { } entry && (newest is null || entry.Version > newest.Version))
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
    private sealed record MapFacts(ClusterMap Map, IReadOnlySet<string> Unavailable, bool Changing);

    /// <param name="NotStored">Whether (and why) a replica that answered did not store the written entry.</param>
    private sealed record ReplicaAnswer(ReplicaTarget Replica, StoredEntry? Entry, NotStored NotStored = NotStored.No);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Replica {NodeId} failed a {Operation}: {Reason}")]
    private static partial void LogReplicaFailed(ILogger logger, string operation, string nodeId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Read repair failed")]
    private static partial void LogReadRepairFailed(ILogger logger, Exception exception);
}
