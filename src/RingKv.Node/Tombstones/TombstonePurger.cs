using Grpc.Core;
using Microsoft.Extensions.Logging;
using RingKv.Core.Cluster;
using RingKv.Core.Ring;
using RingKv.Node.Hosting;
using RingKv.Node.Internode;
using RingKv.Node.Internode.Grpc;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Membership;
using RingKv.Storage;
using RingKv.Storage.Hints;

namespace RingKv.Node.Tombstones;

/// <summary>
/// Purges tombstones once no replica can bring back what they deleted (docs/ARCHITECTURE.md,
/// "Tombstone purging"). Anti-entropy's driver of a range calls <see cref="PurgeEverywhereAsync"/>
/// after every replica of the range was compared and found identical; it lists the tombstones its
/// own scan for that comparison found older than the grace period, so only tombstones every replica
/// was seen to hold are named. Every replica, the driver included, checks the rule again with its
/// own map, clock, hints and the coordinator's last word on quiet (<see cref="WhyUnsafe"/>), and the
/// engine removes each tombstone only if it is still stored unchanged.
/// </summary>
public sealed partial class TombstonePurger(
    IStorageEngine engine,
    IHintStore hints,
    ClusterView view,
    QuietReport quiet,
    GrpcReplicaTransport peers,
    NodeOptions options,
    TombstoneCensus census,
    TimeProvider time,
    ILogger<TombstonePurger> logger)
{
    /// <summary>Tombstones named in one call, so a large backlog goes in bounded messages.</summary>
    private const int MaxPerCall = 1000;

    /// <summary>Tombstones whose version is older than this (Unix ms, this node's clock) are past the grace period.</summary>
    public long CutoffMs() => time.GetUtcNow().ToUnixTimeMilliseconds() - (long)options.TombstoneGrace.TotalMilliseconds;

    /// <summary>
    /// Null when this replica may purge these tombstones of <paramref name="range"/> now, else why
    /// not. Checked on every replica, whoever asks, so a driver with an older map, a clock ahead,
    /// or a shorter grace period cannot make it purge too early.
    /// </summary>
    public string? WhyUnsafe(TokenRange range, long epoch, IReadOnlyList<StoredEntry> tombstones)
    {
        if (view.Map is not { } map || view.SelfId is not { } self)
        {
            return "no cluster map yet";
        }
        if (map.Epoch != epoch)
        {
            return $"asked at epoch {epoch}, this node has {map.Epoch}";
        }
        var probe = range.IsFull ? 0 : unchecked(range.Start + 1);
        var replicas = map.Ring.PreferenceList(probe, map.ReplicationFactor);
        if (!replicas.Contains(self))
        {
            return $"{self} does not replicate {range} at epoch {map.Epoch}";
        }
        // Every replica up: one that is down (or was, and has not been compared since) may hold an
        // older live value of any of these keys.
        if (replicas.Count < map.ReplicationFactor || replicas.Any(id => map.FindMember(id)?.State != MemberState.Up))
        {
            return $"not every replica of {range} is up";
        }
        if (quiet.WhyNotQuiet(map.Epoch) is { } notQuiet)
        {
            return notQuiet;
        }
        // Hints held here carry values for other owners, possibly older than a tombstone they hold.
        if (hints.GetStats().Pending > 0)
        {
            return "this node holds hints not yet handed off";
        }
        var cutoff = CutoffMs();
        foreach (var tombstone in tombstones)
        {
            if (!tombstone.Deleted || !range.Contains(tombstone.Token))
            {
                return $"{tombstone.Key} is not a tombstone of {range}";
            }
            if (tombstone.Version.WallMilliseconds >= cutoff)
            {
                return $"the tombstone of {tombstone.Key} is younger than this node's grace period ({options.TombstoneGrace.TotalSeconds} s)";
            }
        }
        return null;
    }

    /// <summary>Purges on this replica if <see cref="WhyUnsafe"/> allows; returns how many were removed, or why none were.</summary>
    public async Task<(long Purged, string? Refused)> PurgeLocalAsync(TokenRange range, long epoch, IReadOnlyList<StoredEntry> tombstones)
    {
        if (WhyUnsafe(range, epoch, tombstones) is { } why)
        {
            census.PurgeRefused(why);
            return (0, why);
        }
        var purged = await engine.PurgeTombstonesAsync(tombstones);
        census.AddPurged(purged);
        return (purged, null);
    }

    /// <summary>
    /// Asks every other replica, then this one, to purge the tombstones. A replica that refuses or
    /// fails keeps them; the next anti-entropy round copies them back to the others, which is
    /// harmless: nothing older survives anywhere for them to lose to.
    /// </summary>
    /// <returns>Tombstones removed on this node.</returns>
    public async Task<long> PurgeEverywhereAsync(ClusterMap map, TokenRange range, IReadOnlyList<ClusterMember> otherReplicas, IReadOnlyList<StoredEntry> tombstones, CancellationToken cancellationToken)
    {
        if (WhyUnsafe(range, map.Epoch, tombstones) is { } why)
        {
            LogNotPurging(logger, range.ToString(), why);
            return 0;
        }
        long purgedHere = 0;
        foreach (var slice in tombstones.Chunk(MaxPerCall))
        {
            foreach (var peer in otherReplicas)
            {
                var request = new PurgeTombstonesRequest { Header = peers.Header(), Start = range.Start, End = range.End };
                request.Header.Epoch = map.Epoch;
                request.Tombstones.AddRange(slice.Select(t => t.ToMessage()));
                try
                {
                    var reply = await peers.For(peer.InternodeUrl).Client.PurgeTombstonesAsync(request,
                        deadline: DateTime.UtcNow + options.RequestTimeout * 5, cancellationToken: cancellationToken);
                    peers.Observe(reply.Header);
                    if (reply.Refused.Length > 0)
                    {
                        LogPeerRefused(logger, peer.Id, range.ToString(), reply.Refused);
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is RpcException or HttpRequestException)
                {
                    LogPeerRefused(logger, peer.Id, range.ToString(), ex.Message);
                }
            }
            var (purged, refused) = await PurgeLocalAsync(range, map.Epoch, slice);
            if (refused is not null)
            {
                LogNotPurging(logger, range.ToString(), refused);
                break;
            }
            purgedHere += purged;
        }
        return purgedHere;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Not purging tombstones of {Range}: {Reason}")]
    private static partial void LogNotPurging(ILogger logger, string range, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Peer} kept the tombstones of {Range}: {Reason}")]
    private static partial void LogPeerRefused(ILogger logger, string peer, string range, string reason);
}
