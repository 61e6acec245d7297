using RingKv.Node.Internode;
using RingKv.Storage;

namespace RingKv.Node.Replication;

public sealed partial class ReplicatedKeyValueService
{
    /// <summary>
    /// A coordinated read: R replicas are asked first (this node's own copy first), each answer is
    /// counted here on the thread that brings it, and the others are asked only when one of the
    /// first fails or is slow (<see cref="AskTheRest"/>). Like <see cref="WriteRound"/>, the peers'
    /// batchers complete this object directly instead of a task and a continuation per replica.
    /// Once every replica asked has answered and the caller has its result, replicas that answered
    /// with an older version are repaired in the background (read repair).
    /// </summary>
    private sealed class ReadRound : IBatchCompletion<StoredEntry?>
    {
        private readonly ReplicatedKeyValueService _service;
        private readonly string _key;
        private readonly IReadOnlyList<ReplicaTarget> _replicas;
        private readonly int _required;
        private readonly ReplicaAnswer?[] _answers;
        private readonly bool[] _answered;
        private TaskCompletionSource _decided = new();
        private QuorumTally _tally;
        private int _asked;
        private int _answeredCount;
        private bool _repairArmed;

        /// <param name="replicas">The live replicas of the key, this node first when it is one.</param>
        public ReadRound(ReplicatedKeyValueService service, string key, IReadOnlyList<ReplicaTarget> replicas, int required)
        {
            _service = service;
            _key = key;
            _replicas = replicas;
            _required = required;
            _answers = new ReplicaAnswer?[replicas.Count];
            _answered = new bool[replicas.Count];
            _tally = new QuorumTally(required, required, distinctNodes: false);
        }

        /// <summary>Whether replicas are left to ask once the first R are found wanting.</summary>
        public bool HasSpares => _replicas.Count > _required;

        /// <summary>Completes when the outcome of what has been asked so far is decided.</summary>
        public Task Decided
        {
            get
            {
                lock (_answers)
                {
                    return _decided.Task;
                }
            }
        }

        /// <summary>Asks the first R replicas.</summary>
        public void Start() => Ask(0, _required);

        /// <summary>Asks every replica not asked yet; the quorum is then counted over all of them.</summary>
        public void AskTheRest()
        {
            int from;
            lock (_answers)
            {
                from = _asked;
                if (from >= _replicas.Count)
                {
                    return;
                }
                // Counted again over every replica: what has come in so far stays counted.
                var tally = new QuorumTally(_required, _replicas.Count, distinctNodes: false);
                for (var slot = 0; slot < from; slot++)
                {
                    if (_answered[slot])
                    {
                        tally.Record(_answers[slot] is not null);
                    }
                }
                _tally = tally;
                if (!_tally.Decided)
                {
                    _decided = new TaskCompletionSource();
                }
            }
            Ask(from, _replicas.Count);
        }

        /// <summary>The newest of the answers so far when R replicas answered, and how many did.</summary>
        public (bool Reached, StoredEntry? Newest, int Answered) Outcome()
        {
            lock (_answers)
            {
                return (_tally.Reached, ReplicatedKeyValueService.Newest(_answers), _tally.Succeeded);
            }
        }

        /// <summary>The caller has its result: read repair may run once every replica asked has answered.</summary>
        public void ArmRepair()
        {
            bool repairNow;
            lock (_answers)
            {
                _repairArmed = true;
                repairNow = _answeredCount == _asked;
            }
            if (repairNow)
            {
                RepairIfStale();
            }
        }

        /// <summary>A peer's copy of the key (null: none).</summary>
        public void Complete(int slot, StoredEntry? entry)
        {
            var replica = _replicas[slot];
            if (entry is not null && !_service._clock.TryObserve(entry.Version.Timestamp))
            {
                // A copy written by a node whose clock ran far ahead (it keeps its own writes):
                // not an answer, or it would win every read of the key.
                _service._metrics.ClockRefusedEntry("read");
                _service._metrics.ReplicaResponse("read", "refused");
                Count(slot, null);
                return;
            }
            _service._metrics.ReplicaResponse("read", "ack");
            Count(slot, new ReplicaAnswer(replica, entry));
        }

        public void Fail(int slot, Exception error)
        {
            _service._metrics.ReplicaResponse("read", FailureOutcome(error));
            LogReplicaFailed(_service._logger, "read", _replicas[slot].NodeId, error.Message);
            Count(slot, null);
        }

        private void Ask(int from, int to)
        {
            lock (_answers)
            {
                _asked = to;
            }
            for (var slot = from; slot < to; slot++)
            {
                var replica = _replicas[slot];
                if (replica.IsSelf)
                {
                    ReadLocally(slot, replica);
                }
                else
                {
                    try
                    {
                        _service._peers.For(replica.InternodeUrl).Read(_key, this, slot);
                    }
                    catch (ObjectDisposedException ex)
                    {
                        // The node is shutting down: that replica does not answer.
                        Fail(slot, ex);
                    }
                }
            }
        }

        private void ReadLocally(int slot, ReplicaTarget replica)
        {
            StoredEntry? entry;
            try
            {
                entry = _service._local.Get(_key);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogReplicaFailed(_service._logger, "read", replica.NodeId, ex.Message);
                Count(slot, null);
                return;
            }
            Count(slot, new ReplicaAnswer(replica, entry));
        }

        private void Count(int slot, ReplicaAnswer? answer)
        {
            TaskCompletionSource? decided = null;
            var repairNow = false;
            lock (_answers)
            {
                _answers[slot] = answer;
                _answered[slot] = true;
                _answeredCount++;
                if (_tally.Record(answer is not null))
                {
                    decided = _decided;
                }
                repairNow = _repairArmed && _answeredCount == _asked;
            }
            // Outside the lock: the rest of the request runs inline from here.
            decided?.TrySetResult();
            if (repairNow)
            {
                RepairIfStale();
            }
        }

        /// <summary>Writes the newest version back to every replica that answered with an older one (or none).</summary>
        private void RepairIfStale()
        {
            var newest = ReplicatedKeyValueService.Newest(_answers);
            if (newest is null)
            {
                return;
            }
            foreach (var answer in _answers)
            {
                if (answer is not null && (answer.Entry is null || answer.Entry.Version < newest.Version))
                {
                    _service._metrics.ReadRepair();
                    _ = _service.RepairAsync(answer.Replica, newest);
                }
            }
        }
    }
}
