using RingKv.Node.Hosting;
using RingKv.Storage;

namespace RingKv.Coordinator.Hosting;

/// <summary>Settings of the coordinator (the ring server), with their defaults.</summary>
public sealed class CoordinatorOptions
{
    /// <summary>Loopback by default; another address is refused unless <see cref="AuthFile"/> is set (protected mode).</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>The coordinator's port: cluster API, client gateway and the nodes' control plane. Default 7000.</summary>
    public int Port { get; set; } = 7000;

    /// <summary>
    /// Port of the Redis-protocol (RESP) gateway: Redis clients connect here and each connection is
    /// passed through to a node that is up. Default 7379 (not Redis's 6379, so a local redis-server
    /// does not stop <c>up</c>); 0 picks a free one.
    /// </summary>
    public int RespPort { get; set; } = 7379;

    /// <summary>Whether the gateway and the nodes it launches listen for RESP (<c>--no-resp</c> turns both off). Default on.</summary>
    public bool RespEnabled { get; set; } = true;

    /// <summary>
    /// Whether the nodes this coordinator launches are started again when they exit unasked
    /// (at most 4 times a minute each; the fifth exit leaves the node down). Default on;
    /// <c>--no-supervise</c> turns it off. Never for the memory engine (a restarted node would be empty).
    /// </summary>
    public bool SuperviseNodes { get; set; } = true;

    /// <summary>Where the cluster map is kept, and where launched nodes get their data directories (<c>nodes/&lt;id&gt;</c>).</summary>
    public string DataDirectory { get; set; } = "ringkv-data";

    /// <summary>Copies of every key, set when the cluster is created and kept with its map. Default 3.</summary>
    public int ReplicationFactor { get; set; } = 3;

    /// <summary>Engine of the nodes this coordinator launches. Default rocksdb.</summary>
    public string NodeEngine { get; set; } = "rocksdb";

    /// <summary>Fsync mode of the nodes this coordinator launches. Default batch.</summary>
    public FsyncMode NodeFsync { get; set; } = FsyncMode.Batch;

    /// <summary>Synced acknowledgements the nodes this coordinator launches wait for (<c>--synced-acks</c>). Default one.</summary>
    public SyncedAcks NodeSyncedAcks { get; set; } = SyncedAcks.One;

    /// <summary>
    /// A configuration file whose <c>node</c> section the nodes this coordinator launches read
    /// (their <c>--config</c>), so every node setting can be set for them; the launcher's own flags
    /// (ports, data directory, engine, fsync, synced acks, auth, TLS) win over it. <c>up --config
    /// FILE</c> and <c>coordinator --config FILE</c> set it to that file. Default none.
    /// </summary>
    public string? NodeConfigFile { get; set; }

    /// <summary>How long a launched node may take to start and join before the launch fails. Default 60 s.</summary>
    public TimeSpan LaunchTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Virtual nodes (tokens) per member. Default: TokenAllocator.DefaultTokensPerNode.</summary>
    public int TokensPerNode { get; set; } = Core.Ring.TokenAllocator.DefaultTokensPerNode;

    /// <summary>A node silent this long is suspect (no data moves). Default 3 s: three missed heartbeats.</summary>
    public TimeSpan SuspectAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A node silent this long is dead and evicted; its copies are rebuilt elsewhere. Default 10 s.</summary>
    public TimeSpan EvictionGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Entries per second a transfer may copy, so foreground latency holds while data moves.
    /// Default 15,000: on a 2-core machine that still restores RF for a million keys on 5 nodes in
    /// about a minute (docs/PERFORMANCE.md).
    /// </summary>
    public int TransferRateLimit { get; set; } = 15_000;

    /// <summary>How long old owners keep ranges they no longer own after a membership change, before dropping them. Default 30 s.</summary>
    public TimeSpan ReleaseGracePeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>An auth file of hashed client tokens, enforced here and on the nodes it launches. Null: none (loopback only).</summary>
    public string? AuthFile { get; set; }

    /// <summary>The cluster secret file (mode 0600), required from nodes on joins, heartbeats and map fetches and handed to the nodes it starts. Null: none.</summary>
    public string? ClusterSecretFile { get; set; }

    /// <summary>
    /// PEM certificate of the coordinator's listener, also its client certificate towards nodes'
    /// internode ports; handed, with the key and authority, to the nodes it launches. Null: plain HTTP.
    /// </summary>
    public string? TlsCertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificateFile"/>.</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>PEM certificate of the cluster's authority: nodes' certificates must chain to it. Required with TLS.</summary>
    public string? TlsAuthorityFile { get; set; }

    /// <summary>
    /// This member's id in a coordinator group (one of <see cref="Peers"/>). Null: a single
    /// coordinator, which keeps the cluster map in its data directory.
    /// </summary>
    public string? MemberId { get; set; }

    /// <summary>
    /// The coordinator group, every member (this one included) as <c>ID=http://IP:PORT@RAFTPORT</c>,
    /// comma-separated: 3 or 5 members, the same list on each. The URL is the member's own cluster
    /// API; RAFTPORT its Raft transport on the same host. Null: a single coordinator.
    /// </summary>
    public string? Peers { get; set; }

    /// <summary>The parsed <see cref="Peers"/>; empty for a single coordinator.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<Consensus.CoordinatorPeer> Group => Peers is null ? [] : Consensus.CoordinatorPeer.ParseList(Peers);

    /// <summary>This member's entry in <see cref="Group"/>; null for a single coordinator.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Consensus.CoordinatorPeer? Self => MemberId is null ? null : Group.FirstOrDefault(p => p.Id == MemberId);

    /// <summary>Kestrel limits of the coordinator's listener (gateway, cluster API, control plane); defaults in <see cref="ServerLimits"/>.</summary>
    public ServerLimits Limits { get; set; } = new();

    public void Validate()
    {
        Limits.Validate();
        if ((TlsCertificateFile is null) != (TlsKeyFile is null) || (TlsCertificateFile is null) != (TlsAuthorityFile is null))
        {
            throw new ArgumentException("TLS needs --tls-cert, --tls-key and --tls-ca together (./ringkv up --tls makes a set).");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(ReleaseGracePeriod, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SuspectAfter, TimeSpan.Zero);
        if (EvictionGracePeriod <= SuspectAfter)
        {
            throw new ArgumentException($"The eviction grace period ({EvictionGracePeriod.TotalSeconds} s) must be longer than the suspect threshold ({SuspectAfter.TotalSeconds} s).");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(TransferRateLimit);
        ArgumentOutOfRangeException.ThrowIfNegative(Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(ReplicationFactor, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ReplicationFactor, 7);
        if ((MemberId is null) != (Peers is null))
        {
            throw new ArgumentException("A coordinator group member needs --member-id and --peers together.");
        }
        if (MemberId is not null && Self is null)
        {
            throw new ArgumentException($"--member-id {MemberId} is not one of --peers ({Peers}).");
        }
        if (NodeEngine is not ("rocksdb" or "memory"))
        {
            throw new ArgumentException($"Unknown engine '{NodeEngine}'. Use 'rocksdb' or 'memory'.", nameof(NodeEngine));
        }
    }
}
