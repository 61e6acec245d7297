using System.CommandLine;
using RingKv.Cli.Configuration;
using RingKv.Cli.Hosting;
using RingKv.Coordinator.Hosting;
using RingKv.Storage;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv coordinator</c>: the ring server alone; nodes join it with <c>node --join</c> or are launched by <c>node add</c>.</summary>
public static class CoordinatorCommand
{
    public const string ListeningPrefix = "RingKV coordinator listening on ";

    public static Command Create()
    {
        var defaults = new CoordinatorOptions();
        var options = new ServerOptionSet(defaults);
        // Only here, not in 'up': nodes joining from other hosts (or network namespaces) must reach
        // the coordinator, while 'up' runs everything on one machine.
        var bind = new Option<string>("--bind") { Description = "Address to listen on. Loopback by default; another address needs --auth-file (protected mode).", DefaultValueFactory = _ => defaults.BindAddress, HelpName = "ADDRESS" };
        var memberId = new Option<string?>("--member-id") { Description = "This member's id in a coordinator group (one of --peers). Without it: a single coordinator.", HelpName = "ID" };
        var peers = new Option<string?>("--peers") { Description = "Every member of the coordinator group, this one included, the same list on each: ID=http://IP:PORT@RAFTPORT,... (3 or 5 members). PORT is the member's own cluster API, RAFTPORT its Raft transport.", HelpName = "LIST" };
        var command = new Command("coordinator", $"Run the coordinator (the ring server) in the foreground: it owns the cluster map, admits and watches nodes, and is a gateway for the v1 API. Prints '{ListeningPrefix}URL' once ready.");
        options.AddTo(command);
        command.Options.Add(bind);
        command.Options.Add(memberId);
        command.Options.Add(peers);
        command.SetAction(async parseResult =>
        {
            var bound = options.Bind(parseResult);
            parseResult.IfGiven(bind, v => bound.BindAddress = v);
            parseResult.IfGiven(memberId, v => bound.MemberId = v);
            parseResult.IfGiven(peers, v => bound.Peers = v);
            return await CoordinatorRunner.RunAsync(bound, nodesToRun: 0, url => ListeningPrefix + url);
        });
        return command;
    }
}

/// <summary>The options <c>coordinator</c> and <c>up</c> share.</summary>
public sealed class ServerOptionSet(CoordinatorOptions defaults)
{
    public Option<int> Port { get; } = new("--port") { Description = "Coordinator port (cluster API and gateway); 0 picks a free one (printed).", DefaultValueFactory = _ => defaults.Port, HelpName = "PORT" };

    public Option<int> RespPort { get; } = new("--resp-port") { Description = "Port of the Redis-protocol (RESP) gateway: each connection goes to a node that is up; 0 picks a free one (printed).", DefaultValueFactory = _ => defaults.RespPort, HelpName = "PORT" };

    public Option<bool> NoSupervise { get; } = new("--no-supervise") { Description = "Do not start a launched node again when it exits (by default it is, at most 4 times a minute; never with --engine memory). Coordinator members under up are restarted either way." };

    public Option<bool> NoResp { get; } = new("--no-resp") { Description = "No Redis-protocol gateway, and no RESP listener on the nodes it starts." };

    public Option<string> DataDirectory { get; } = new("--data-dir") { Description = "Where the cluster map and the launched nodes' data are kept.", DefaultValueFactory = _ => defaults.DataDirectory, HelpName = "DIR" };

    public Option<int> Replicas { get; } = new("--replicas") { Description = "Copies of every key (the replication factor), fixed when the cluster is created.", DefaultValueFactory = _ => defaults.ReplicationFactor, HelpName = "N" };

    public Option<string> Engine { get; } = new("--engine") { Description = "Engine of the nodes it launches: rocksdb (durable) or memory.", DefaultValueFactory = _ => defaults.NodeEngine };

    // Strings, not the enums: help and errors then show the lowercase names users type.
    public Option<string> Fsync { get; } = new("--fsync") { Description = "Fsync mode of the nodes it launches: always, batch or never.", DefaultValueFactory = _ => defaults.NodeFsync.ToString().ToLowerInvariant() };

    public Option<string> SyncedAcks { get; } = new("--synced-acks") { Description = "Acknowledgements of a write that must be synced to disk before the client is answered: one (the coordinating node's own copy; the other replicas' are in their logs, synced about 10 ms later) or all.", DefaultValueFactory = _ => defaults.NodeSyncedAcks.ToString().ToLowerInvariant() };

    public Option<double> SuspectAfter { get; } = new("--suspect-after") { Description = "Seconds without a heartbeat before a node is suspect (nothing moves yet).", DefaultValueFactory = _ => defaults.SuspectAfter.TotalSeconds, HelpName = "SECONDS" };

    public Option<double> EvictionGrace { get; } = new("--eviction-grace") { Description = "Seconds without a heartbeat before a node is dead, evicted, and its copies rebuilt on other nodes.", DefaultValueFactory = _ => defaults.EvictionGracePeriod.TotalSeconds, HelpName = "SECONDS" };

    public Option<int> TransferRate { get; } = new("--transfer-rate") { Description = "Entries per second a transfer may copy (0: unlimited).", DefaultValueFactory = _ => defaults.TransferRateLimit, HelpName = "N" };

    public Option<double> ReleaseGrace { get; } = new("--release-grace") { Description = "Seconds old owners keep ranges they no longer own after a membership change, before dropping them.", DefaultValueFactory = _ => defaults.ReleaseGracePeriod.TotalSeconds, HelpName = "SECONDS" };

    public Option<string?> AuthFile { get; } = new("--auth-file") { Description = "Hashed client tokens (./ringkv token create), enforced by the coordinator and the nodes it starts.", HelpName = "PATH" };

    public Option<string?> ClusterSecretFile { get; } = new("--cluster-secret-file") { Description = "The cluster secret (a file of mode 0600): nodes must present it to join, heartbeat and replicate. 'up' creates one in its data directory.", HelpName = "PATH" };

    public TlsOptionSet Tls { get; } = new("PEM certificate of the coordinator's listener (also its client certificate towards nodes); passed with the key and CA to the nodes it starts.");
    public LimitOptionSet Limits { get; } = new();

    public void AddTo(Command command)
    {
        Limits.AddTo(command);
        Engine.AcceptOnlyFromAmong("rocksdb", "memory");
        Fsync.AcceptOnlyFromAmong("always", "batch", "never");
        SyncedAcks.AcceptOnlyFromAmong("one", "all");
        foreach (var option in new Option[] { Port, RespPort, NoResp, NoSupervise, DataDirectory, Replicas, Engine, Fsync, SyncedAcks, SuspectAfter, EvictionGrace, TransferRate, ReleaseGrace, AuthFile, ClusterSecretFile, Config })
        {
            command.Options.Add(option);
        }
        Tls.AddTo(command);
    }

    public Option<string?> Config { get; } = ExplicitOptions.ConfigOption(ConfigFile.CoordinatorSection);

    /// <summary>The configuration file's settings (if any) over the defaults, then the flags given.</summary>
    public CoordinatorOptions Bind(ParseResult parseResult)
    {
        var file = parseResult.GetValue(Config);
        var options = file is null ? new CoordinatorOptions() : ConfigFile.LoadCoordinator(file);
        if (file is not null && ConfigFile.HasSection(file, ConfigFile.NodeSection))
        {
            // The same file's node section is for the nodes it launches, unless it names another.
            options.NodeConfigFile ??= Path.GetFullPath(file);
        }
        parseResult.IfGiven(Port, v => options.Port = v);
        parseResult.IfGiven(RespPort, v => options.RespPort = v);
        parseResult.IfGiven(NoResp, v => options.RespEnabled = !v);
        parseResult.IfGiven(NoSupervise, v => options.SuperviseNodes = !v);
        parseResult.IfGiven(DataDirectory, v => options.DataDirectory = v);
        parseResult.IfGiven(Replicas, v => options.ReplicationFactor = v);
        parseResult.IfGiven(Engine, v => options.NodeEngine = v);
        parseResult.IfGiven(Fsync, v => options.NodeFsync = Enum.Parse<FsyncMode>(v, ignoreCase: true));
        parseResult.IfGiven(SyncedAcks, v => options.NodeSyncedAcks = Enum.Parse<SyncedAcks>(v, ignoreCase: true));
        parseResult.IfGiven(SuspectAfter, v => options.SuspectAfter = TimeSpan.FromSeconds(v));
        parseResult.IfGiven(EvictionGrace, v => options.EvictionGracePeriod = TimeSpan.FromSeconds(v));
        parseResult.IfGiven(TransferRate, v => options.TransferRateLimit = v);
        parseResult.IfGiven(ReleaseGrace, v => options.ReleaseGracePeriod = TimeSpan.FromSeconds(v));
        parseResult.IfGiven(AuthFile, v => options.AuthFile = v);
        parseResult.IfGiven(ClusterSecretFile, v => options.ClusterSecretFile = v);
        parseResult.IfGiven(Tls.Certificate, v => options.TlsCertificateFile = v);
        parseResult.IfGiven(Tls.Key, v => options.TlsKeyFile = v);
        parseResult.IfGiven(Tls.Authority, v => options.TlsAuthorityFile = v);
        Limits.Apply(parseResult, options.Limits);
        return options;
    }
}
