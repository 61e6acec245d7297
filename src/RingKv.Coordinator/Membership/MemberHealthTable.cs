using System.Collections.Concurrent;
using RingKv.Node.Api;
using RingKv.Node.Membership;

namespace RingKv.Coordinator.Membership;

/// <summary>
/// The last heartbeat of every node and the figures it reported. In memory only: after a restart
/// the coordinator knows nothing of heartbeats until they arrive again, and judges nobody before.
/// </summary>
public sealed class MemberHealthTable(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Beat> _beats = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (int Restarts, bool GaveUp)> _supervision = new(StringComparer.Ordinal);

    public void Record(HeartbeatRequest heartbeat, int? processId = null) =>
        _beats.AddOrUpdate(heartbeat.Id,
            _ => new Beat(time.GetTimestamp(), heartbeat, processId),
            (_, previous) => new Beat(time.GetTimestamp(), heartbeat, processId ?? previous.ProcessId));

    public void RecordProcess(string id, int processId) =>
        _beats.AddOrUpdate(id,
            _ => new Beat(time.GetTimestamp(), new HeartbeatRequest(id, 0, 0, 0, 0, 0), processId),
            (_, previous) => previous with { ProcessId = processId });

    public TimeSpan? SinceLastHeartbeat(string id) =>
        _beats.TryGetValue(id, out var beat) ? time.GetElapsedTime(beat.At) : null;

    public int? ProcessIdOf(string id) => _beats.TryGetValue(id, out var beat) ? beat.ProcessId : null;

    /// <summary>What the supervisor did for a node it launched: restarts so far, and whether it gave up.</summary>
    public void RecordSupervision(string id, int restarts, bool gaveUp) => _supervision[id] = (restarts, gaveUp);

    /// <summary>Whether a supervisor here has said anything of this member yet.</summary>
    public bool IsSupervised(string id) => _supervision.ContainsKey(id);

    public void Forget(string id)
    {
        _beats.TryRemove(id, out _);
        _supervision.TryRemove(id, out _);
    }

    public IReadOnlyDictionary<string, MemberHealth> Snapshot() =>
        _beats.ToDictionary(pair => pair.Key, pair => Health(pair.Key, pair.Value), StringComparer.Ordinal);

    private MemberHealth Health(string id, Beat beat)
    {
        var supervised = _supervision.TryGetValue(id, out var supervision);
        return new MemberHealth(
            (long)time.GetElapsedTime(beat.At).TotalMilliseconds,
            beat.Last.Keys,
            beat.Last.Bytes,
            beat.Last.PendingHints,
            beat.Last.Transfers,
            beat.ProcessId,
            beat.Last.Tombstones,
            beat.Last.OldestTombstoneAgeMs,
            supervision.Restarts,
            supervised ? (supervision.GaveUp ? "gave-up" : "on") : null,
            beat.Last.Storage,
            beat.Last.FreeDiskBytes);
    }

    private sealed record Beat(long At, HeartbeatRequest Last, int? ProcessId);
}
