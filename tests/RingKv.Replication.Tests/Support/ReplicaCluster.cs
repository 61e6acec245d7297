using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RingKv.Core.Cluster;
using RingKv.Core.Hashing;
using RingKv.Core.Versioning;
using RingKv.Node.Hosting;
using RingKv.Node.Membership;
using RingKv.Node.Observability;
using RingKv.Node.Replication;
using RingKv.Replication.Tests.Transport;
using RingKv.Storage;
using RingKv.Storage.Hints;
using RingKv.Storage.Memory;

namespace RingKv.Replication.Tests.Support;

/// <summary>
/// Nodes n1…nN in one process, each with its own memory engine, hint store, clock, cluster view and
/// request coordinator, joined by an <see cref="InMemoryNetwork"/> on one fake clock: time moves
/// only when a test says so.
/// </summary>
public sealed class ReplicaCluster : IAsyncDisposable
{
    public const int ReplicationFactor = 3;

    private readonly Dictionary<string, ReplicaNode> _nodes = new(StringComparer.Ordinal);

    public ReplicaCluster(int nodes = 5, Action<NodeOptions>? configure = null)
    {
        Options = new NodeOptions();
        configure?.Invoke(Options);
        Network = new InMemoryNetwork(Time, Options.RequestTimeout);
        var members = new List<ClusterMember>();
        for (var i = 1; i <= nodes; i++)
        {
            var id = $"n{i}";
            members.Add(new ClusterMember(id, (uint)i, $"http://{id}.test", Url(id), MemberState.Up, Tokens(i, nodes)));
            _nodes.Add(id, new ReplicaNode(this, id, (uint)i));
        }
        Install(new ClusterMap(1, ReplicationFactor, members, (uint)nodes));
    }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public NodeOptions Options { get; }

    public InMemoryNetwork Network { get; }

    public ClusterMap Map { get; private set; } = ClusterMap.Create(ReplicationFactor);

    public ReplicaNode this[string id] => _nodes[id];

    public IEnumerable<ReplicaNode> Nodes => _nodes.Values;

    public static string Url(string id) => $"mem://{id}";

    /// <summary>Gives every node <paramref name="map"/> (a newer epoch), as the coordinator's long-poll would.</summary>
    public void Install(ClusterMap map)
    {
        Map = map;
        foreach (var node in _nodes.Values)
        {
            node.View.TryInstall(map);
        }
    }

    public ClusterMap WithState(string id, MemberState state)
    {
        Install(Map.WithState(id, state));
        return Map;
    }

    /// <summary>The key's preference list: the first RF distinct nodes clockwise from its token.</summary>
    public IReadOnlyList<string> OwnersOf(string key) => Map.Ring.PreferenceList(KeyToken.Of(key), ReplicationFactor);

    /// <summary>The first node clockwise after the key's owners: where a down owner's hint goes.</summary>
    public string FallbackOf(string key, string owner)
    {
        var fallback = Map.Ring.PreferenceList(KeyToken.Of(key), ReplicationFactor, new HashSet<string>(StringComparer.Ordinal) { owner })
            .First(entry => entry.StandsInFor == owner);
        return fallback.NodeId;
    }

    /// <summary>An entry stamped by <paramref name="writer"/>'s clock, as its API would stamp a PUT.</summary>
    public StoredEntry Entry(string key, string value, ReplicaNode writer) => Entry(key, value, new EntryVersion(writer.Clock.Now(), writer.Number));

    public static StoredEntry Entry(string key, string value, EntryVersion version) =>
        new(key, KeyToken.Of(key), Encoding.UTF8.GetBytes(value), StoredEntry.DefaultContentType, version, Deleted: false, ExpiresAtMs: 0);

    /// <summary>A version stamped by a clock <paramref name="ahead"/> of this cluster's (a node whose clock runs fast).</summary>
    public EntryVersion VersionAhead(TimeSpan ahead, uint writer) =>
        new(new HybridLogicalClock(new FakeTimeProvider(Time.GetUtcNow() + ahead)).Now(), writer);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            await node.Hints.DisposeAsync();
            await node.Engine.DisposeAsync();
        }
    }

    /// <summary>Eight vnodes per node, interleaved round the ring.</summary>
    private static ulong[] Tokens(int node, int nodes)
    {
        const int VnodesPerNode = 8;
        var step = ulong.MaxValue / (ulong)(VnodesPerNode * nodes + 1);
        return [.. Enumerable.Range(0, VnodesPerNode).Select(v => step * (ulong)(v * nodes + node))];
    }

    public sealed class ReplicaNode
    {
        internal ReplicaNode(ReplicaCluster cluster, string id, uint number)
        {
            Id = id;
            Number = number;
            Engine = new MemoryEngine(cluster.Time);
            Hints = new MemoryHintStore(HintStoreLimits.Default, cluster.Time);
            Clock = new HybridLogicalClock(cluster.Time, cluster.Options.MaxClockSkew);
            View.SetSelf(id);
            Replica = cluster.Network.Add(Url(id), Engine, Hints, Clock);
            Transport = cluster.Network.TransportFor(Clock);
            Service = new ReplicatedKeyValueService(Engine, Hints, View, Transport, Clock, cluster.Options, Metrics,
                cluster.Time, NullLogger<ReplicatedKeyValueService>.Instance);
        }

        public string Id { get; }

        public uint Number { get; }

        public MemoryEngine Engine { get; }

        public MemoryHintStore Hints { get; }

        public HybridLogicalClock Clock { get; }

        public ClusterView View { get; } = new();

        public NodeMetrics Metrics { get; } = new();

        public InMemoryReplica Replica { get; }

        public ReplicatedKeyValueService Service { get; }

        /// <summary>Faults of calls to this node, from every other node.</summary>
        public Fault Fault
        {
            get => Replica.Fault;
            set => Replica.Fault = value;
        }

        /// <summary>This node's transport to its peers, as its background services get it.</summary>
        public InMemoryReplicaTransport Transport { get; }

        public Task<WriteResult> PutAsync(StoredEntry entry, int? w = null) =>
            Service.WriteAsync(entry, WritePrecondition.None, w, CancellationToken.None).AsTask();

        public Task<StoredEntry?> GetAsync(string key, int? r = null) => Service.GetAsync(key, r, CancellationToken.None).AsTask();

        /// <summary>Stores an entry in this node's own replica only, as if the others had missed it.</summary>
        public void Store(StoredEntry entry) => Engine.WriteAsync(entry, WritePrecondition.None).AsTask().GetAwaiter().GetResult();
    }
}
