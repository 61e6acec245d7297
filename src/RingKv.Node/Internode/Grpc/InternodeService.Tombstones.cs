using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using RingKv.Core.Ring;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Tombstones;
using RingKv.Storage;

namespace RingKv.Node.Internode.Grpc;

public sealed partial class InternodeService
{
    /// <summary>
    /// Anti-entropy's driver asks this replica to purge tombstones every replica was seen to hold.
    /// The replica checks the rule itself (<see cref="TombstonePurger.WhyUnsafe"/>) and answers why
    /// when it refuses; nothing is removed then.
    /// </summary>
    public override async Task<PurgeTombstonesReply> PurgeTombstones(PurgeTombstonesRequest request, ServerCallContext context)
    {
        Observe(request.Header);
        RequireMember();
        var tombstones = new List<StoredEntry>(request.Tombstones.Count);
        foreach (var message in request.Tombstones)
        {
            tombstones.Add(message.ToEntry(options.MaxKeyBytes, options.MaxValueBytes)
                ?? throw new RpcException(new Status(StatusCode.InvalidArgument, "A tombstone has an invalid key.")));
        }
        // Resolved per call rather than injected: purges are rare (one per range and round at most),
        // and the write path's constructor stays as it is.
        var purger = context.GetHttpContext().RequestServices.GetRequiredService<TombstonePurger>();
        var (purged, refused) = await purger.PurgeLocalAsync(new TokenRange(request.Start, request.End), request.Header?.Epoch ?? -1, tombstones);
        metrics.InternodeReceived("purge-tombstones", tombstones.Count);
        return new PurgeTombstonesReply { Header = Header(), Purged = purged, Refused = refused ?? string.Empty };
    }

    /// <summary>
    /// A replica write, hint or repair whose version is beyond the clock bound: refused and counted,
    /// never stored, so a node whose clock runs far ahead cannot give a key a version every later
    /// write loses to.
    /// </summary>
    private ReplicaWriteStatus RefuseTooFarAhead()
    {
        metrics.ClockRefusedEntry("write");
        return ReplicaWriteStatus.TooFarAhead;
    }
}
