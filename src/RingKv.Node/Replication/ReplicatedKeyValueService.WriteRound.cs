using RingKv.Core.Cluster;
using RingKv.Node.Internode;
using RingKv.Storage;

namespace RingKv.Node.Replication;

public sealed partial class ReplicatedKeyValueService
{
    /// <summary>
    /// One attempt of a coordinated write: the entry goes to every replica target at once, and each
    /// answer is counted here, on the thread that brings it, until W distinct nodes have stored it
    /// or that can no longer happen. The peers' batchers complete this object directly: a task, a
    /// continuation and two state machines per replica were most of what a write allocated on the
    /// coordinating node (docs/PERFORMANCE.md).
    /// The rare paths (a fallback that keeps a hint, a write to a fallback named up front) still run
    /// as tasks and report here when they end.
    /// <para>
    /// Under <c>--synced-acks one</c> (the default), when this node is one of the key's replicas,
    /// its own copy is the synced one: it anchors the quorum (no quorum without it), and the peers
    /// are asked to answer once the entry is in their write-ahead log, syncing it shortly after.
    /// A peer's sync is then off the write's path, and peers sync a hundred times a second at most
    /// instead of once per batch. This is Dynamo's "durable write" (§6.1), kept stronger: every
    /// acknowledgement still means the write survives that replica's process being killed. When
    /// this node holds no copy, every peer syncs before it answers, as under <c>all</c>.
    /// </para>
    /// </summary>
    private sealed class WriteRound : IBatchCompletion<ReplicaWriteOutcome>
    {
        private readonly ReplicatedKeyValueService _service;
        private readonly ClusterMap _map;
        private readonly IReadOnlyList<ReplicaTarget> _replicas;
        private readonly StoredEntry _entry;
        private readonly TaskCompletionSource _decided = new();
        // The node whose synced copy the quorum needs (this one), or null: every answer is synced.
        private readonly string? _anchor;
        private QuorumTally _tally;
        private int _superseded;
        private int _localSlot = -1;
        private Task<WriteResult>? _localWrite;

        public WriteRound(ReplicatedKeyValueService service, ClusterMap map, IReadOnlyList<ReplicaTarget> replicas, int required, StoredEntry entry)
        {
            _service = service;
            _map = map;
            _replicas = replicas;
            _entry = entry;
            _anchor = service._options.SyncedAcks == SyncedAcks.One ? OwnCopy(replicas) : null;
            _tally = new QuorumTally(required, replicas.Count, distinctNodes: true, _anchor);
        }

        /// <summary>This node's id if it is one of the replicas itself (not a fallback keeping a hint).</summary>
        private static string? OwnCopy(IReadOnlyList<ReplicaTarget> replicas)
        {
            foreach (var replica in replicas)
            {
                if (replica.IsSelf && replica.StandsInFor is null)
                {
                    return replica.NodeId;
                }
            }
            return null;
        }

        /// <summary>Completes when the outcome is decided (reached or out of reach); it may never, if replicas hang.</summary>
        public Task Decided => _decided.Task;

        /// <summary>Replicas that answered with a newer version than this attempt's.</summary>
        public int Superseded => Volatile.Read(ref _superseded);

        public (bool Reached, int Acknowledged) Outcome()
        {
            lock (_decided)
            {
                return (_tally.Reached, _tally.Succeeded);
            }
        }

        /// <summary>Sends the entry to every replica target; answers may arrive before this returns.</summary>
        public void Start()
        {
            for (var slot = 0; slot < _replicas.Count; slot++)
            {
                var replica = _replicas[slot];
                if (replica.StandsInFor is not null)
                {
                    _ = WriteSlowlyAsync(slot, _service.TryWriteAsync(replica, _entry, "write"));
                }
                else if (replica.IsSelf)
                {
                    StartLocal(slot);
                }
                else
                {
                    var peer = _service._peers.For(replica.InternodeUrl);
                    try
                    {
                        if (!peer.TryWrite(_entry, logged: _anchor is not null, this, slot))
                        {
                            Fail(slot, peer.Backlogged());
                        }
                    }
                    catch (ObjectDisposedException ex)
                    {
                        // The node is shutting down: that replica does not answer, and no fallback is tried.
                        LogReplicaFailed(_service._logger, "write", replica.NodeId, ex.Message);
                        Count(null);
                    }
                }
            }
        }

        /// <summary>What a peer did with the entry.</summary>
        public void Complete(int slot, ReplicaWriteOutcome outcome)
        {
            _service._metrics.ReplicaResponse("write", MetricOutcome(outcome));
            if (outcome == ReplicaWriteOutcome.Stale)
            {
                Interlocked.Increment(ref _superseded);
            }
            Count(outcome == ReplicaWriteOutcome.Applied ? _replicas[slot].NodeId : null);
        }

        /// <summary>A peer did not answer: with sloppy quorum its copy goes to the next live node as a hint (<see cref="FallbackAsync"/>).</summary>
        public void Fail(int slot, Exception error)
        {
            var replica = _replicas[slot];
            _service._metrics.ReplicaResponse("write", FailureOutcome(error));
            LogReplicaFailed(_service._logger, "write", replica.NodeId, error.Message);
            if (_service._options.SloppyQuorum)
            {
                _ = WriteSlowlyAsync(slot, _service.FallbackAsync(_map, replica, _entry, "write"));
            }
            else
            {
                Count(null);
            }
        }

        private void StartLocal(int slot)
        {
            Task<WriteResult> write;
            try
            {
                // The storage engine's writes are tasks already (a group commit completes them): no allocation here.
                write = _service._local.WriteAsync(_entry, WritePrecondition.None).AsTask();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogReplicaFailed(_service._logger, "write", _replicas[slot].NodeId, ex.Message);
                CountLocal(_replicas[slot].NodeId, stored: false);
                return;
            }
            if (write.IsCompleted)
            {
                LocalWritten(slot, write);
                return;
            }
            _localSlot = slot;
            _localWrite = write;
            write.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(LocalWritten);
        }

        private void LocalWritten() => LocalWritten(_localSlot, _localWrite!);

        private void LocalWritten(int slot, Task<WriteResult> write)
        {
            var replica = _replicas[slot];
            if (!write.IsCompletedSuccessfully)
            {
                // The local store failed the write (a full disk): no acknowledgement, no fallback.
                var error = write.Exception?.GetBaseException() ?? new OperationCanceledException();
                LogReplicaFailed(_service._logger, "write", replica.NodeId, error.Message);
                CountLocal(replica.NodeId, stored: false);
                return;
            }
            var result = write.Result;
            if (result.Status == WriteStatus.Stale)
            {
                _service._clock.TryObserve(result.Current.Timestamp);
                Interlocked.Increment(ref _superseded);
                CountLocal(replica.NodeId, stored: false);
                return;
            }
            CountLocal(replica.NodeId, stored: true);
        }

        /// <summary>
        /// Counts this node's own copy. If it anchors the quorum and was not stored, the peers'
        /// copies are only logged, not synced: the attempt fails now (and is re-stamped if it was
        /// superseded).
        /// </summary>
        private void CountLocal(string self, bool stored)
        {
            if (_anchor is null)
            {
                Count(stored ? self : null);
                return;
            }
            bool decided;
            lock (_decided)
            {
                decided = stored ? _tally.RecordAnchor() : _tally.RecordAnchorFailed();
            }
            if (decided)
            {
                _decided.TrySetResult();
            }
        }

        private async Task WriteSlowlyAsync(int slot, Task<ReplicaAnswer?> write)
        {
            ReplicaAnswer? answer = null;
            try
            {
                answer = await write.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogReplicaFailed(_service._logger, "write", _replicas[slot].NodeId, ex.Message);
            }
            Count(answer is { NotStored: NotStored.No } ? answer.Replica.NodeId : null);
        }

        private void Count(string? node)
        {
            // Locked on the completion source: private to this round, and one object fewer per write.
            lock (_decided)
            {
                if (!_tally.Record(node))
                {
                    return;
                }
            }
            // Outside the lock: the rest of the request runs inline from here.
            _decided.TrySetResult();
        }
    }
}
