using System.Runtime.CompilerServices;
using RingKv.Core.AntiEntropy;
using RingKv.Core.Ring;
using RingKv.Core.Versioning;
using RingKv.Node.AntiEntropy;
using RingKv.Node.Data;
using RingKv.Node.Internode;
using RingKv.Storage;

namespace RingKv.Replication.Tests.Transport;

/// <summary>
/// One node's way to its peers in an <see cref="InMemoryNetwork"/>: every call runs against the
/// peer's <see cref="InMemoryReplica"/> as its fault says, and each reply advances this node's
/// clock to the peer's, as the header of a gRPC reply does.
/// </summary>
public sealed class InMemoryReplicaTransport(InMemoryNetwork network, HybridLogicalClock clock) : IReplicaTransport
{
    private const int ChunkEntries = 512;

    private readonly InMemoryNetwork _network = network;
    private readonly HybridLogicalClock _clock = clock;

    public IReplicaPeer For(string internodeUrl) => new Peer(this, _network[internodeUrl]);

    private sealed class Peer(InMemoryReplicaTransport owner, InMemoryReplica replica) : IReplicaPeer
    {
        public bool TryWrite(StoredEntry entry, bool logged, IBatchCompletion<ReplicaWriteOutcome> target, int slot)
        {
            if (replica.Fault.Kind == FaultKind.Backlog)
            {
                replica.Count("write");
                return false;
            }
            owner._network.Deliver(replica, "write", () => target.Complete(slot, Reply(replica.Receive(entry, null))), error => target.Fail(slot, error));
            return true;
        }

        public ReplicaCallException Backlogged() => new(ReplicaFailure.Backlogged, $"Too many writes wait for {replica.Url} (test fault).");

        public Task<ReplicaWriteOutcome> WriteAsync(StoredEntry entry) => Write(entry, null);

        public Task<ReplicaWriteOutcome> WriteHintAsync(StoredEntry entry, string owner) => Write(entry, owner);

        public void Read(string key, IBatchCompletion<StoredEntry?> target, int slot) =>
            owner._network.Deliver(replica, "read", () => target.Complete(slot, Reply(replica.Engine.Get(key))), error => target.Fail(slot, error));

        public Task<LocalListing.Slice> ListAsync(string prefix, ScanPosition after, int limit, CancellationToken cancellationToken) =>
            Call("list", () =>
            {
                var nowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                var slice = LocalListing.Read(replica.Engine, prefix, after, limit);
                // Keys and versions only, as the wire carries them.
                var entries = slice.Entries.Select(e => new StoredEntry(e.Key, e.Token, [], StoredEntry.DefaultContentType, e.Version,
                    Deleted: !e.IsLive(nowMs), ExpiresAtMs: 0)).ToList();
                return new LocalListing.Slice(entries, slice.Last, slice.More);
            });

        public Task<IReadOnlyList<RangeDigest>> RangeTreeAsync(TokenRange range, int depth, TimeSpan timeout, CancellationToken cancellationToken) =>
            Call<IReadOnlyList<RangeDigest>>("range-tree", () =>
            {
                var tree = LocalRangeTree.Build(replica.Engine, range, RangeTreeDepth.Clamp(range, depth), cancellationToken);
                return [.. Enumerable.Range(0, tree.LeafCount).Select(tree.Leaf)];
            });

        public async IAsyncEnumerable<EntryChunk> StreamRangeAsync(TokenRange range, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            var entries = await Call<IReadOnlyList<StoredEntry>>("stream-range", () => [.. RangeScan.Entries(replica.Engine, range)]);
            foreach (var chunk in entries.Chunk(ChunkEntries))
            {
                yield return new EntryChunk(chunk, Last: false);
            }
            yield return new EntryChunk([], Last: true);
        }

        private Task<ReplicaWriteOutcome> Write(StoredEntry entry, string? hintOwner)
        {
            if (replica.Fault.Kind == FaultKind.Backlog)
            {
                replica.Count(hintOwner is null ? "write" : "hint");
                return Task.FromException<ReplicaWriteOutcome>(Backlogged());
            }
            return Call(hintOwner is null ? "write" : "hint", () => replica.Receive(entry, hintOwner));
        }

        private Task<T> Call<T>(string kind, Func<T> answer)
        {
            var call = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            owner._network.Deliver(replica, kind, () =>
            {
                try
                {
                    call.TrySetResult(Reply(answer()));
                }
                catch (Exception ex)
                {
                    call.TrySetException(ex);
                }
            }, error => call.TrySetException(error));
            return call.Task;
        }

        /// <summary>A reply carries the peer's clock: ours follows it.</summary>
        private T Reply<T>(T result)
        {
            owner._clock.TryObserve(replica.Clock.Last);
            return result;
        }
    }
}
