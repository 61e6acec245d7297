using RingKv.Core.AntiEntropy;
using RingKv.Core.Cluster;
using RingKv.Core.Ring;
using RingKv.Core.Versioning;
using RingKv.Node.Data;
using RingKv.Node.Hosting;
using RingKv.Node.Internode;
using RingKv.Node.Observability;
using RingKv.Storage;

namespace RingKv.Node.AntiEntropy;

/// <summary>
/// One anti-entropy exchange (Dynamo §4.7): compares this node's hash tree of a range with a peer's,
/// and for every subrange where they differ, streams the peer's entries, applies those that are newer
/// here and sends back those that are newer here, tombstones included. Both sides apply with last
/// writer wins, so a write landing meanwhile is never undone and a repeated exchange is harmless.
/// </summary>
public sealed class ReplicaExchange(
    IStorageEngine engine,
    IReplicaTransport peers,
    HybridLogicalClock clock,
    AntiEntropyOptions options,
    NodeMetrics metrics)
{
    /// <summary>
    /// This node's tree of a range at the deepest useful depth: any shallower tree a peer is asked
    /// for lines up with one of its levels, so one scan serves every peer of the range.
    /// </summary>
    /// <param name="visit">Sees every entry the tree is built from (the purge takes its tombstones from this very scan).</param>
    public MerkleTree BuildLocalTree(TokenRange range, CancellationToken cancellationToken, Action<StoredEntry>? visit = null) =>
        LocalRangeTree.Build(engine, range, RangeTreeDepth.Clamp(range, options.MaxTreeDepth), cancellationToken, visit);

    /// <exception cref="ReplicaCallException">The peer failed or is unreachable.</exception>
    /// <exception cref="InvalidDataException">The peer answered something that cannot be right.</exception>
    public async Task<ExchangeOutcome> RunAsync(MerkleTree local, ClusterMember peer, ScanPacer pacer, CancellationToken cancellationToken)
    {
        var range = local.Range;
        // The depth follows the amount of data so a leaf holds a few dozen entries; at most the local
        // tree's own depth, of which it is then a level.
        var depth = RangeTreeDepth.Clamp(range, RangeTreeDepth.ForEntries(local.Root.Count, options.LeafEntries, local.Depth));
        var client = peers.For(peer.InternodeUrl);
        var leaves = await client.RangeTreeAsync(range, depth, options.CallTimeout, cancellationToken);
        if (leaves.Count != 1 << depth)
        {
            throw new InvalidDataException($"{peer.Id} sent {leaves.Count} leaves for {range} at depth {depth}, not {1 << depth}. Is it running an incompatible release?");
        }
        long scanned = 0;
        foreach (var leaf in leaves)
        {
            scanned += leaf.Count;
        }
        await pacer.PaceAsync(scanned, cancellationToken);

        // The reply carries every leaf, so the walk from the root that MerkleTree.Diff does would
        // find the same leaves: inner nodes are sums of their leaves. Compared leaf by leaf here.
        var differing = new List<int>();
        for (var i = 0; i < leaves.Count; i++)
        {
            if (local.Node(depth, i) != leaves[i])
            {
                differing.Add(i);
            }
        }
        long pulled = 0;
        long pushed = 0;
        foreach (var (subrange, theirEntries) in Runs(local, depth, differing, leaves))
        {
            var repaired = await RepairAsync(client, peer, subrange, theirEntries, pacer, cancellationToken);
            scanned += repaired.Scanned;
            pulled += repaired.Pulled;
            pushed += repaired.Pushed;
        }
        return new ExchangeOutcome(differing.Count, scanned, pulled, pushed);
    }

    /// <summary>
    /// Differing leaves that are next to each other, joined into one subrange as long as it stays within
    /// <see cref="AntiEntropyOptions.MaxEntriesPerRepair"/>: a replica missing a whole range (a wiped
    /// disk) is then repaired in a few large streams rather than one per leaf. Each comes with the
    /// number of entries the peer holds in it.
    /// </summary>
    private IEnumerable<(TokenRange Range, long TheirEntries)> Runs(MerkleTree local, int depth, List<int> differing, IReadOnlyList<RangeDigest> theirs)
    {
        var shift = local.Depth - depth;
        var first = -1;
        var last = -1;
        long entries = 0;
        long theirEntries = 0;
        foreach (var leaf in differing)
        {
            var cost = Math.Max(local.Node(depth, leaf).Count, theirs[leaf].Count);
            if (first >= 0 && (leaf != last + 1 || entries + cost > options.MaxEntriesPerRepair))
            {
                yield return (Subrange(first, last), theirEntries);
                first = -1;
            }
            if (first < 0)
            {
                first = leaf;
                entries = 0;
                theirEntries = 0;
            }
            last = leaf;
            entries += cost;
            theirEntries += theirs[leaf].Count;
        }
        if (first >= 0)
        {
            yield return (Subrange(first, last), theirEntries);
        }

        // Node i at `depth` covers leaves [i << shift, (i + 1) << shift) of the local tree.
        TokenRange Subrange(int from, int to) =>
            new(local.LeafRange(from << shift).Start, local.LeafRange(((to + 1) << shift) - 1).End);
    }

    private async Task<ExchangeOutcome> RepairAsync(
        IReplicaPeer client, ClusterMember peer, TokenRange subrange, long theirEntries, ScanPacer pacer, CancellationToken cancellationToken)
    {
        // Versions only: values are read again for the few entries pushed, so an exchange holds
        // keys, not megabytes of values.
        var mine = new Dictionary<string, EntryVersion>(StringComparer.Ordinal);
        foreach (var entry in RangeScan.Entries(engine, subrange))
        {
            mine[entry.Key] = entry.Version;
        }
        long scanned = mine.Count;
        await pacer.PaceAsync(mine.Count, cancellationToken);

        var applies = new List<Task<WriteResult>>();
        var pushes = new List<Task<ReplicaWriteOutcome>>();
        try
        {
            // The stream is paced here, so its deadline grows with what the peer has to send.
            var timeout = options.CallTimeout + TimeSpan.FromSeconds((double)theirEntries / options.EntriesPerSecond);
            var complete = false;
            await foreach (var chunk in client.StreamRangeAsync(subrange, timeout, cancellationToken))
            {
                foreach (var theirs in chunk.Entries)
                {
                    if (!subrange.Contains(theirs.Token))
                    {
                        throw new InvalidDataException($"{peer.Id} sent an entry outside {subrange} while repairing that range.");
                    }
                    if (!mine.Remove(theirs.Key, out var ours) || theirs.Version > ours)
                    {
                        // Every timestamp received advances the clock, as for a replicated write; one
                        // beyond the clock bound is not stored, as a replica write would not be.
                        if (clock.TryObserve(theirs.Version.Timestamp))
                        {
                            applies.Add(engine.WriteAsync(theirs, WritePrecondition.None, cancellationToken).AsTask());
                        }
                        else
                        {
                            metrics.ClockRefusedEntry("anti-entropy");
                        }
                    }
                    else if (ours > theirs.Version)
                    {
                        Push(theirs.Key);
                    }
                    // Equal versions are the same write: nothing to do (last writer wins cannot pick between two copies of one version).
                }
                scanned += chunk.Entries.Count;
                complete |= chunk.Last;
                await pacer.PaceAsync(chunk.Entries.Count, cancellationToken);
            }
            if (!complete)
            {
                throw new InvalidDataException($"{peer.Id}'s stream of {subrange} ended without its closing chunk.");
            }
            // What is left the peer does not have at all.
            foreach (var key in mine.Keys)
            {
                Push(key);
            }
        }
        finally
        {
            // Writes already started are valid repairs whatever happened to the stream: let them land
            // (and observe their failures) before reporting.
            await Task.WhenAll(applies.Cast<Task>().Concat(pushes)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        if (pushes.FirstOrDefault(p => !p.IsCompletedSuccessfully) is { } failedPush)
        {
            await failedPush;
        }
        if (applies.FirstOrDefault(a => !a.IsCompletedSuccessfully) is { } failedApply)
        {
            await failedApply;
        }
        var pulled = applies.Count(a => a.Result.Status == WriteStatus.Applied);
        var pushed = pushes.Count(p => p.Result == ReplicaWriteOutcome.Applied);
        return new ExchangeOutcome(1, scanned, pulled, pushed);

        // The entry as it is now: if a newer write landed since the scan, that is what the peer needs.
        void Push(string key)
        {
            if (engine.Get(key) is { } entry)
            {
                pushes.Add(client.WriteAsync(entry));
            }
        }
    }
}
