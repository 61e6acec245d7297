using RingKv.Core.Cluster;

namespace RingKv.Node.Membership;

/// <summary>
/// This node's view of the cluster: the newest cluster map it has, an immutable snapshot swapped
/// atomically, so a request sees one whole map from start to end (Garnet's and Orleans' habit).
/// </summary>
public sealed class ClusterView
{
    private ClusterMap? _map;
    private long _newestEpochSeen;
    private readonly SemaphoreSlim _newerEpochSignal = new(0, 1);

    /// <summary>This node's member id once admitted ("n3"); null before.</summary>
    public string? SelfId { get; private set; }

    public ClusterMap? Map => Volatile.Read(ref _map);

    public long Epoch => Map?.Epoch ?? 0;

    public void SetSelf(string id) => SelfId = id;

    /// <summary>Installs <paramref name="map"/> if it is newer than the current one. Returns whether it was installed.</summary>
    public bool TryInstall(ClusterMap map)
    {
        while (true)
        {
            var current = Volatile.Read(ref _map);
            if (current is not null && current.Epoch >= map.Epoch)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _map, map, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>A peer or the coordinator mentioned <paramref name="epoch"/>; if it is newer than ours, wake the map fetcher.</summary>
    public void ObserveEpoch(long epoch)
    {
        if (epoch <= Epoch)
        {
            return;
        }
        var seen = Interlocked.Read(ref _newestEpochSeen);
        while (epoch > seen)
        {
            var previous = Interlocked.CompareExchange(ref _newestEpochSeen, epoch, seen);
            if (previous == seen)
            {
                if (_newerEpochSignal.CurrentCount == 0)
                {
                    try
                    {
                        _newerEpochSignal.Release();
                    }
                    catch (SemaphoreFullException)
                    {
                        // Another observer signalled first: one wake-up is enough.
                    }
                }
                return;
            }
            seen = previous;
        }
    }

    /// <summary>Completes when a newer epoch than ours was observed, or after <paramref name="timeout"/>.</summary>
    public Task<bool> WaitForNewerEpochAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _newerEpochSignal.WaitAsync(timeout, cancellationToken);
}
