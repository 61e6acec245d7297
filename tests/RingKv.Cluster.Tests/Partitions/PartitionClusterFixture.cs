namespace RingKv.Cluster.Tests.Partitions;

/// <summary>
/// One namespaced cluster shared by the partition scenarios (starting five nodes is the slow part);
/// each scenario uses its own keys and leaves the cluster healed and healthy for the next. Started
/// on first use, so skipped tests start nothing.
/// </summary>
public sealed class PartitionClusterFixture : IAsyncLifetime
{
    /// <summary>
    /// Longer than any partition or pause here (15 s at most) plus the few seconds a node needs to be
    /// heard again after healing: these scenarios are about hinted handoff and anti-entropy healing a
    /// member that comes back, not about eviction. Not much longer, so a node that stays silent long
    /// after its network healed is evicted and fails the scenario.
    /// </summary>
    public static readonly TimeSpan EvictionGrace = TimeSpan.FromSeconds(25);

    public static readonly string[] CoordinatorArgs = ["--eviction-grace", EvictionGrace.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>
    /// How long a tombstone must be kept before it may be purged. The delete scenario keeps a replica
    /// cut off for longer than this before healing.
    /// </summary>
    public static readonly TimeSpan TombstoneGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The node flag for <see cref="TombstoneGrace"/>: the delete scenario checks that purging, with a
    /// replica that missed the delete cut off for longer than the grace, never brings the key back.
    /// </summary>
    public static readonly string[] TombstoneGraceArgs = ["--tombstone-grace", "5"];

    /// <summary>Anti-entropy every 2 s rather than 15: convergence within seconds keeps the suite short.</summary>
    public static readonly string[] NodeArgs = ["--anti-entropy-pause", "2", .. TombstoneGraceArgs];

    private readonly SemaphoreSlim _gate = new(1, 1);
    private NamespacedCluster? _cluster;
    private System.Runtime.ExceptionServices.ExceptionDispatchInfo? _failure;

    /// <summary>The shared cluster if it was started, else null.</summary>
    public NamespacedCluster? Started => _cluster;

    /// <summary>How long the shared cluster took to start, for the record.</summary>
    public TimeSpan? StartedIn { get; private set; }

    public async Task<NamespacedCluster> GetAsync()
    {
        await _gate.WaitAsync();
        try
        {
            // A cluster that could not start fails every scenario with the same cause, without starting again.
            _failure?.Throw();
            if (_cluster is null)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    _cluster = await NamespacedCluster.StartAsync(5, CoordinatorArgs, NodeArgs);
                }
                catch (Exception e)
                {
                    _failure = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                    throw;
                }
                StartedIn = clock.Elapsed;
                // A coordinator judges nobody for one grace period after its start (it cannot tell a
                // silent node from one it has not heard yet); the scenarios need it judging. The end
                // of that warm-up is not published, only its rule: wait it out.
                var warmUp = EvictionGrace - _cluster.CoordinatorUptime;
                if (warmUp > TimeSpan.Zero)
                {
                    await Task.Delay(warmUp);
                }
            }
            return _cluster;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
        _gate.Dispose();
    }
}
