using RingKv.Node.Hosting;

namespace RingKv.Node.Membership;

/// <summary>
/// What the coordinator said in this node's last heartbeat reply about the cluster being quiet
/// (<see cref="HeartbeatReply.Quiet"/>). Tombstone purging needs it fresh and for the map the node
/// has: a reply a few heartbeats old, or for another epoch, says nothing about now.
/// </summary>
public sealed class QuietReport(NodeOptions options, TimeProvider time)
{
    private Report? _last;

    public void Record(long epoch, bool quiet) => Volatile.Write(ref _last, new Report(epoch, quiet, time.GetTimestamp()));

    /// <summary>Null when the cluster was last reported quiet at <paramref name="epoch"/>, recently; otherwise why not.</summary>
    public string? WhyNotQuiet(long epoch)
    {
        var last = Volatile.Read(ref _last);
        if (last is null)
        {
            return "no heartbeat reply from the coordinator yet";
        }
        var age = time.GetElapsedTime(last.At);
        if (age > 3 * options.HeartbeatInterval)
        {
            return $"the coordinator's last heartbeat reply is {age.TotalSeconds:0.#} s old";
        }
        if (last.Epoch != epoch)
        {
            return $"the coordinator's last reply was for epoch {last.Epoch}, this node has {epoch}";
        }
        return last.Quiet ? null : "the cluster is not quiet (a member down, hints pending, a transfer or change running, or placement not yet cleaned up)";
    }

    private sealed record Report(long Epoch, bool Quiet, long At);
}
