using RingKv.Storage;

namespace RingKv.Node.Hosting;

/// <summary>Settings of one storage node, with their defaults. Bound from the command line.</summary>
public sealed class NodeOptions
{
    /// <summary>Address the client listener binds to. Default loopback: a node is closed to other machines unless asked.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// The host name or address put in the URLs this node reports to the coordinator (client and
    /// internode), which members, the gateway and clients dial. Null (default): the bind address.
    /// Required in a cluster when the bind address is a wildcard (0.0.0.0, ::): no other machine can
    /// dial that, and a peer dialling it reaches itself.
    /// </summary>
    public string? AdvertiseHost { get; set; }

    /// <summary>Client API port. Default 7000; 0 picks a free port.</summary>
    public int Port { get; set; } = 7000;

    /// <summary>Where the engine keeps its files. Default <c>./ringkv-data</c>.</summary>
    public string DataDirectory { get; set; } = "ringkv-data";

    /// <summary><c>rocksdb</c> (default, durable) or <c>memory</c>.</summary>
    public string Engine { get; set; } = "rocksdb";

    /// <summary>Default <see cref="FsyncMode.Batch"/>.</summary>
    public FsyncMode Fsync { get; set; } = FsyncMode.Batch;

    /// <summary>
    /// For the writes this node coordinates: how many of the W acknowledgements must be synced.
    /// Default <see cref="SyncedAcks.One"/>: its own copy, with the peers' copies in their logs.
    /// </summary>
    public SyncedAcks SyncedAcks { get; set; } = SyncedAcks.One;

    /// <summary>Largest key in UTF-8 bytes. Default 1024.</summary>
    public int MaxKeyBytes { get; set; } = 1024;

    /// <summary>Largest value in bytes. Default 1 MiB.</summary>
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// This node's numeric id, written into every version it issues. Default 1 for a standalone
    /// node; in a cluster the coordinator assigns it at admission.
    /// </summary>
    public uint NodeId { get; set; } = 1;

    /// <summary>The coordinator to join (<c>--join URL</c>). Null: a standalone node.</summary>
    public string? Join { get; set; }

    /// <summary>The member id to ask for when joining (the coordinator passes it to nodes it launches). Null: the coordinator picks one.</summary>
    public string? NodeName { get; set; }

    /// <summary>
    /// Port of the Redis-protocol (RESP) listener, on the same address and TLS as the client
    /// port. Default 0: a free port, announced with the client URL and in the cluster map.
    /// </summary>
    public int RespPort { get; set; }

    /// <summary>Whether the node listens for RESP at all (<c>--no-resp</c> turns it off). Default on.</summary>
    public bool RespEnabled { get; set; } = true;

    /// <summary>Internode (gRPC, HTTP/2) port. Default 0: a free port, reported to the coordinator.</summary>
    public int InternodePort { get; set; }

    /// <summary>How long a coordinated request waits for its quorum. Default 2 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the node reports to the coordinator. Default 1 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Sloppy quorum (default on): a write whose owner is down goes to the next live node as a hint
    /// and counts towards W. Off: only live owners count (strict quorum; more 503s during failures).
    /// </summary>
    public bool SloppyQuorum { get; set; } = true;

    /// <summary>
    /// An auth file of hashed client tokens (<c>./ringkv token create</c>). Null (default): no
    /// authentication, and therefore loopback only (protected mode).
    /// </summary>
    public string? AuthFile { get; set; }

    /// <summary>
    /// A file holding the cluster secret (mode 0600; <c>./ringkv up</c> creates one): required on
    /// internode calls and sent on joins and heartbeats. Null: none (loopback-only clusters).
    /// </summary>
    public string? ClusterSecretFile { get; set; }

    /// <summary>
    /// PEM certificate for the client and internode listeners, also shown to peers and the
    /// coordinator as this node's client certificate. Null (default): plain HTTP.
    /// </summary>
    public string? TlsCertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificateFile"/> (keep it mode 0600).</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>
    /// PEM certificate of the cluster's authority: peers' and the coordinator's certificates must
    /// chain to it. Required with TLS in a cluster; a standalone node may serve TLS without it.
    /// </summary>
    public string? TlsAuthorityFile { get; set; }

    /// <summary>Pause between anti-entropy rounds; null keeps the default (AntiEntropyOptions).</summary>
    public TimeSpan? AntiEntropyPause { get; set; }

    /// <summary>Kestrel limits of both listeners (connections, header and body timeouts); defaults in <see cref="ServerLimits"/>.</summary>
    public ServerLimits Limits { get; set; } = new();
    /// <summary>
    /// How far ahead of this node's wall clock a version (or any clock value) received from another
    /// node may be. Beyond it a replica refuses to store the entry and the clock does not follow,
    /// so a node whose clock runs far ahead cannot give keys versions nobody can overwrite. Must
    /// exceed the largest skew between any two nodes' clocks. Default 60 s.
    /// </summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A fixed offset added to this node's wall clock (<c>--clock-offset</c>): for clock-skew tests
    /// on one machine, never for production. Default zero.
    /// </summary>
    public TimeSpan ClockOffset { get; set; }

    /// <summary>
    /// How old (by its version's wall time) a tombstone must be before anti-entropy may purge it,
    /// once every replica of its range holds it and the cluster is quiet. It covers what the quiet
    /// check cannot see: writes still in flight, hints stored since the last heartbeat, and clock
    /// skew between nodes; so it must exceed <see cref="MaxClockSkew"/> in production. Default 1 h:
    /// a deleted key costs a few dozen bytes for an hour, which is cheap insurance.
    /// </summary>
    public TimeSpan TombstoneGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Free space kept in reserve on the data disk (rocksdb; <c>--min-free-disk</c>): with less free,
    /// the node refuses writes (507 <c>insufficient-storage</c>) and keeps serving reads, until space
    /// is freed. Checked once a second. Default 64 MiB; 0 refuses only once RocksDB itself runs out.
    /// </summary>
    public long MinFreeDiskBytes { get; set; } = FreeSpaceGuard.DefaultReserveBytes;

    public bool IsClustered => Join is not null;

    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxKeyBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxValueBytes, 1);
        // Every value must fit, with its key, in one internode message to be replicated at all.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxValueBytes, ServerLimits.InternodeMaxMessageBytes / 2);
        ArgumentOutOfRangeException.ThrowIfNegative(RespPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(RespPort, 65535);
        ArgumentOutOfRangeException.ThrowIfNegative(InternodePort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(InternodePort, 65535);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeartbeatInterval, TimeSpan.Zero);
        if (MinFreeDiskBytes < 0)
        {
            throw new ArgumentException($"--min-free-disk cannot be negative (got {MinFreeDiskBytes}). Use a size such as 64M, or 0 for no reserve.", nameof(MinFreeDiskBytes));
        }
        Limits.Validate();
        if (MaxClockSkew <= TimeSpan.Zero)
        {
            throw new ArgumentException($"--max-clock-skew must be positive (got {MaxClockSkew.TotalSeconds} s). Use more than the largest difference between two nodes' clocks, e.g. 60.", nameof(MaxClockSkew));
        }
        if (TombstoneGrace < TimeSpan.Zero)
        {
            throw new ArgumentException($"--tombstone-grace cannot be negative (got {TombstoneGrace.TotalSeconds} s).", nameof(TombstoneGrace));
        }
        if (Join is not null && Join.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is var urls && (urls.Length == 0 || urls.Any(u => !Uri.TryCreate(u, UriKind.Absolute, out _))))
        {
            throw new ArgumentException($"--join '{Join}' is not an absolute URL. Use the coordinator's URL, e.g. http://127.0.0.1:7000.", nameof(Join));
        }
        if ((TlsCertificateFile is null) != (TlsKeyFile is null) || (TlsAuthorityFile is not null && TlsCertificateFile is null))
        {
            throw new ArgumentException("TLS needs --tls-cert and --tls-key together (and --tls-ca only with them).");
        }
        if (IsClustered && TlsCertificateFile is not null && TlsAuthorityFile is null)
        {
            throw new ArgumentException("A cluster member with TLS needs --tls-ca, the cluster's authority, to verify its peers and the coordinator.");
        }
        if (IsClustered && TlsCertificateFile is not null && Join!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Any(u => !u.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            // The secret and heartbeats must not leave in clear text from a member that has TLS.
            throw new ArgumentException($"--join '{Join}' is not an https URL, but this node has TLS. Use the coordinator's https URL.", nameof(Join));
        }
        if (AdvertiseHost is not null && Uri.CheckHostName(AdvertiseHost.Trim('[', ']')) == UriHostNameType.Unknown)
        {
            throw new ArgumentException($"--advertise-host '{AdvertiseHost}' is not a host name or IP address.", nameof(AdvertiseHost));
        }
        if (IsClustered && AdvertiseHost is null && System.Net.IPAddress.TryParse(BindAddress, out var bound) &&
            (bound.Equals(System.Net.IPAddress.Any) || bound.Equals(System.Net.IPAddress.IPv6Any)))
        {
            throw new ArgumentException(
                $"--bind {BindAddress} listens on every address, but the URLs this node reports must name one that other members can dial. " +
                "Add --advertise-host with this machine's name or address (e.g. --advertise-host 10.0.0.6), or bind to that address.", nameof(AdvertiseHost));
        }
        if (Engine is not ("rocksdb" or "memory"))
        {
            throw new ArgumentException($"Unknown engine '{Engine}'. Use 'rocksdb' or 'memory'.", nameof(Engine));
        }
    }
}
