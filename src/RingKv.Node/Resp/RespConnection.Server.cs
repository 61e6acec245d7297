using System.Diagnostics;
using System.Globalization;
using System.Text;
using RingKv.Core.Cluster;
using RingKv.Node.Api;

namespace RingKv.Node.Resp;

/// <summary>What the RESP door says of itself to clients that check a server's version.</summary>
public static class RespServerInfo
{
    /// <summary>
    /// The Redis version whose string commands RingKV answers like (SET's options, GETEX, GETDEL,
    /// COPY, EXPIRETIME): clients pick their commands by it.
    /// </summary>
    public const string RedisVersion = "7.2.0";

    public static string RingKvVersion { get; } = typeof(RespServerInfo).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Redis's run_id: 40 hex digits, new for every process.</summary>
    public static string RunId { get; } = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
}

// Server commands: INFO, COMMAND, CONFIG GET, TIME. Every figure is read from the node as it is;
// a Redis field with no meaning here is left out rather than filled with a made-up number.
public sealed partial class RespConnection
{
    private static readonly string[] DefaultSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "keyspace", "ringkv"];

    internal ValueTask InfoAsync(byte[][] a)
    {
        var asked = a.Skip(1).Select(s => Encoding.UTF8.GetString(s).ToLowerInvariant()).ToArray();
        var sections = asked.Length == 0 || asked.Any(s => s is "all" or "everything" or "default") ? DefaultSections : asked;
        var text = new StringBuilder();
        foreach (var section in sections.Distinct())
        {
            var lines = InfoSection(section);
            if (lines is null)
            {
                continue;
            }
            if (text.Length > 0)
            {
                text.Append("\r\n");
            }
            text.Append("# ").Append(char.ToUpperInvariant(section[0])).Append(section[1..]).Append("\r\n");
            foreach (var (name, value) in lines)
            {
                text.Append(name).Append(':').Append(value).Append("\r\n");
            }
        }
        _writer.Verbatim(text.ToString());
        return ValueTask.CompletedTask;
    }

    private List<(string, string)>? InfoSection(string section)
    {
        var options = Node.Options;
        var process = Process.GetCurrentProcess();
        var uptime = (long)(_server.Time.GetUtcNow() - _server.StartedAt).TotalSeconds;
        string N(long value) => value.ToString(CultureInfo.InvariantCulture);
        switch (section)
        {
            case "server":
                return
                [
                    ("redis_version", RespServerInfo.RedisVersion),
                    ("ringkv_version", RespServerInfo.RingKvVersion),
                    ("redis_mode", "standalone"),
                    ("os", Environment.OSVersion.ToString()),
                    ("arch_bits", Environment.Is64BitProcess ? "64" : "32"),
                    ("process_id", N(Environment.ProcessId)),
                    ("run_id", RespServerInfo.RunId),
                    ("tcp_port", LocalAddress[(LocalAddress.LastIndexOf(':') + 1)..]),
                    ("uptime_in_seconds", N(uptime)),
                    ("uptime_in_days", N(uptime / 86400)),
                ];
            case "clients":
                return
                [
                    ("connected_clients", N(_server.ConnectedClients)),
                    ("maxclients", N(options.Limits.MaxConnections)),
                    ("blocked_clients", "0"),
                ];
            case "memory":
                return
                [
                    ("used_memory", N(GC.GetTotalMemory(forceFullCollection: false))),
                    ("used_memory_rss", N(process.WorkingSet64)),
                    ("maxmemory", "0"),
                    ("maxmemory_policy", "noeviction"),
                ];
            case "persistence":
                return
                [
                    ("loading", "0"),
                    ("ringkv_engine", options.Engine),
                    ("ringkv_fsync", options.Fsync.ToString().ToLowerInvariant()),
                    ("ringkv_synced_acks", options.SyncedAcks.ToString().ToLowerInvariant()),
                    ("ringkv_wal_syncs", N(_server.Engine.GetStats().LogSyncs)),
                ];
            case "stats":
                return
                [
                    ("total_connections_received", N(_server.ConnectionsReceived)),
                    ("total_commands_processed", N(_server.CommandsProcessed)),
                    ("keyspace_hits", N(_server.KeyspaceHits)),
                    ("keyspace_misses", N(_server.KeyspaceMisses)),
                    ("total_protocol_errors", N(_server.ProtocolErrors)),
                ];
            case "replication":
                // Every RingKV node takes writes for every key (the request coordinator sends them
                // to the key's replicas), which is what "master" tells a standalone client.
                return
                [
                    ("role", "master"),
                    ("connected_slaves", "0"),
                    ("ringkv_replication_factor", N(Node.Service.ReplicationFactor)),
                    ("ringkv_default_quorum", N(QuorumParameters.Majority(Node.Service.ReplicationFactor))),
                ];
            case "cpu":
                return
                [
                    ("used_cpu_sys", process.PrivilegedProcessorTime.TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture)),
                    ("used_cpu_user", process.UserProcessorTime.TotalSeconds.ToString("0.000000", CultureInfo.InvariantCulture)),
                ];
            case "keyspace":
                var keys = EstimatedKeys();
                return keys > 0 ? [("db0", $"keys={N(keys)}")] : [];
            case "ringkv":
                var map = _server.View.Map;
                return
                [
                    ("node_id", _server.View.SelfId ?? "standalone"),
                    ("cluster_epoch", N(map?.Epoch ?? 0)),
                    ("cluster_nodes", N(map?.Members.Count ?? 1)),
                    ("cluster_nodes_up", N(map?.Members.Count(m => m.State == MemberState.Up) ?? 1)),
                    ("keys_stored_here", N(_server.Engine.GetStats().Keys)),
                    ("keyspace_is_estimate", map is null ? "0" : "1"),
                ];
            default:
                return null;
        }
    }

    /// <summary>
    /// Keys in the cluster, estimated from this node's share: its entries times the nodes on the
    /// ring over the copies of each key. Exact on a standalone node (tombstones aside); DBSIZE counts.
    /// </summary>
    private long EstimatedKeys()
    {
        var stored = _server.Engine.GetStats().Keys;
        var map = _server.View.Map;
        if (map is null)
        {
            return stored;
        }
        var owners = Math.Max(1, map.Members.Count(m => m.OwnsRanges));
        return stored * owners / Math.Max(1, Math.Min(map.ReplicationFactor, owners));
    }

    internal ValueTask CommandAsync(byte[][] a)
    {
        if (a.Length == 1)
        {
            WriteCommandInfos(RespCommandTable.All);
            return ValueTask.CompletedTask;
        }
        switch (RespText.Upper(a[1]))
        {
            case "COUNT" when a.Length == 2:
                _writer.Integer(RespCommandTable.All.Count);
                break;
            case "LIST":
                _writer.ArrayHeader(RespCommandTable.All.Count);
                foreach (var command in RespCommandTable.All)
                {
                    _writer.Bulk(command.Name);
                }
                break;
            case "INFO":
                IReadOnlyList<RespCommandSpec?> wanted = a.Length == 2 ? (IReadOnlyList<RespCommandSpec?>)RespCommandTable.All : a.Skip(2).Select(n => RespCommandTable.Find(Encoding.UTF8.GetString(n))).ToList<RespCommandSpec?>();
                WriteCommandInfos(wanted);
                break;
            case "DOCS":
                var documented = a.Length == 2
                    ? RespCommandTable.All
                    : a.Skip(2).Select(n => RespCommandTable.Find(Encoding.UTF8.GetString(n))).OfType<RespCommandSpec>().ToList();
                _writer.MapHeader(documented.Count);
                foreach (var command in documented)
                {
                    _writer.Bulk(command.Name);
                    _writer.MapHeader(3);
                    _writer.Bulk("summary");
                    _writer.Bulk(command.Summary);
                    _writer.Bulk("since");
                    _writer.Bulk(command.Since);
                    _writer.Bulk("group");
                    _writer.Bulk(command.Group);
                }
                break;
            default:
                throw new RespCommandException($"ERR unknown subcommand '{RespText.Printable(a[1])}'. Try COMMAND COUNT, COMMAND LIST, COMMAND INFO or COMMAND DOCS.");
        }
        return ValueTask.CompletedTask;
    }

    private void WriteCommandInfos(IReadOnlyList<RespCommandSpec?> commands)
    {
        _writer.ArrayHeader(commands.Count);
        foreach (var command in commands)
        {
            if (command is null)
            {
                _writer.NullArray();
                continue;
            }
            _writer.ArrayHeader(10);
            _writer.Bulk(command.Name);
            _writer.Integer(command.Arity);
            _writer.SetHeader(command.Flags.Length);
            foreach (var flag in command.Flags)
            {
                _writer.SimpleString(flag);
            }
            _writer.Integer(command.FirstKey);
            _writer.Integer(command.LastKey);
            _writer.Integer(command.Step);
            _writer.SetHeader(1);
            _writer.SimpleString("@" + command.Group);
            _writer.ArrayHeader(0);
            _writer.ArrayHeader(0);
            _writer.ArrayHeader(0);
        }
    }

    internal ValueTask ConfigAsync(byte[][] a)
    {
        var sub = RespText.Upper(a[1]);
        if (sub != "GET" || a.Length < 3)
        {
            throw new RespCommandException(sub is "SET" or "REWRITE" or "RESETSTAT"
                ? $"ERR CONFIG {sub} is not offered: RingKV's settings are the node's command-line flags (ringkv node --help), read with CONFIG GET"
                : "ERR unknown subcommand or wrong number of arguments. Use CONFIG GET <pattern> [<pattern> ...].");
        }
        var settings = Settings();
        var matched = settings.Where(setting => a.Skip(2).Any(pattern => GlobPattern.IsMatch(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(pattern).ToLowerInvariant()), Encoding.UTF8.GetBytes(setting.Key)))).ToList();
        _writer.MapHeader(matched.Count);
        foreach (var (name, value) in matched)
        {
            _writer.Bulk(name);
            _writer.Bulk(value);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>The settings CONFIG GET shows: Redis's names where RingKV has the same setting, ringkv-* for its own.</summary>
    private List<KeyValuePair<string, string>> Settings()
    {
        var options = Node.Options;
        string N(long value) => value.ToString(CultureInfo.InvariantCulture);
        return
        [
            new("bind", options.BindAddress),
            new("port", LocalAddress[(LocalAddress.LastIndexOf(':') + 1)..]),
            new("databases", "1"),
            new("maxclients", N(options.Limits.MaxConnections)),
            new("timeout", N((long)options.Limits.KeepAliveTimeout.TotalSeconds)),
            new("proto-max-bulk-len", N(options.MaxValueBytes)),
            new("maxmemory", "0"),
            new("maxmemory-policy", "noeviction"),
            new("save", string.Empty),
            // The write-ahead log is RingKV's append-only file: every write is in it before it is acknowledged.
            new("appendonly", options.Engine == "rocksdb" ? "yes" : "no"),
            new("appendfsync", options.Engine != "rocksdb" || options.Fsync == Storage.FsyncMode.Never ? "no" : "always"),
            new("ringkv-engine", options.Engine),
            new("ringkv-fsync", options.Fsync.ToString().ToLowerInvariant()),
            new("ringkv-synced-acks", options.SyncedAcks.ToString().ToLowerInvariant()),
            new("ringkv-max-key-bytes", N(options.MaxKeyBytes)),
            new("ringkv-max-value-bytes", N(options.MaxValueBytes)),
            new("ringkv-request-timeout-ms", N((long)options.RequestTimeout.TotalMilliseconds)),
            new("ringkv-replication-factor", N(Node.Service.ReplicationFactor)),
            new("ringkv-sloppy-quorum", options.SloppyQuorum ? "yes" : "no"),
        ];
    }

    internal ValueTask TimeAsync(byte[][] a)
    {
        _ = a;
        var now = _server.Time.GetUtcNow();
        var microseconds = (now - DateTimeOffset.UnixEpoch).Ticks / 10;
        _writer.ArrayHeader(2);
        _writer.Bulk((microseconds / 1_000_000).ToString(CultureInfo.InvariantCulture));
        _writer.Bulk((microseconds % 1_000_000).ToString(CultureInfo.InvariantCulture));
        return ValueTask.CompletedTask;
    }
}
