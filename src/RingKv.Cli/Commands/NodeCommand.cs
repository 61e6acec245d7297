using System.CommandLine;
using RingKv.Cli.Configuration;
using RingKv.Cli.Hosting;
using RingKv.Node.Hosting;
using RingKv.Storage;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv node</c>: one storage node, every setting on the command line. Defaults come from <see cref="NodeOptions"/>.</summary>
public static class NodeCommand
{
    public const string ListeningPrefix = "RingKV node listening on ";

    public static Command Create()
    {
        var defaults = new NodeOptions();
        var port = new Option<int>("--port") { Description = "Client API port; 0 picks a free one (printed).", DefaultValueFactory = _ => defaults.Port, HelpName = "PORT" };
        var dataDir = new Option<string>("--data-dir") { Description = "Where the rocksdb engine keeps its files.", DefaultValueFactory = _ => defaults.DataDirectory, HelpName = "DIR" };
        var engine = new Option<string>("--engine") { Description = "Storage engine: rocksdb (durable) or memory (lost on exit).", DefaultValueFactory = _ => defaults.Engine };
        engine.AcceptOnlyFromAmong("rocksdb", "memory");
        // A string, not the enum: help and errors then show the lowercase names users type.
        var fsync = new Option<string>("--fsync")
        {
            Description = "rocksdb only. always: fsync each write; batch: concurrent writes share one fsync; never: no fsync (survives a process crash, not a power loss).",
            DefaultValueFactory = _ => defaults.Fsync.ToString().ToLowerInvariant(),
        };
        fsync.AcceptOnlyFromAmong("always", "batch", "never");
        var syncedAcks = new Option<string>("--synced-acks")
        {
            Description = "With --join: acknowledgements of a write it coordinates that must be synced to disk before the client is answered. one: its own copy (the other replicas' are in their logs, synced about 10 ms later); all: every one.",
            DefaultValueFactory = _ => defaults.SyncedAcks.ToString().ToLowerInvariant(),
        };
        syncedAcks.AcceptOnlyFromAmong("one", "all");
        var maxValueBytes = new Option<int>("--max-value-bytes") { Description = "Largest value, at most 32 MiB (33554432); larger ones get 413.", DefaultValueFactory = _ => defaults.MaxValueBytes, HelpName = "N" };
        var minFreeDisk = new Option<string>("--min-free-disk")
        {
            Description = "rocksdb only. Free space kept in reserve on the data disk: with less, writes are refused (507 insufficient-storage) and reads go on, until space is freed. Bytes, or with K, M or G (1024-based); 0 for none.",
            DefaultValueFactory = _ => SizeText.Format(defaults.MinFreeDiskBytes),
            HelpName = "SIZE",
        };
        minFreeDisk.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !SizeText.TryParse(result.Tokens[0].Value, out _))
            {
                result.AddError($"--min-free-disk '{result.Tokens[0].Value}' is not a size. Use bytes or a number with K, M or G, e.g. 64M.");
            }
        });
        var maxKeyBytes = new Option<int>("--max-key-bytes") { Description = "Largest key in UTF-8 bytes.", DefaultValueFactory = _ => defaults.MaxKeyBytes, HelpName = "N" };
        var nodeId = new Option<uint>("--node-id") { Description = "This node's id, written into every version it issues.", DefaultValueFactory = _ => defaults.NodeId, HelpName = "N" };
        var join = new Option<string?>("--join") { Description = "Coordinator URL to join: the node becomes a cluster member (the coordinator decides). Without it the node runs alone.", HelpName = "URL" };
        var nodeName = new Option<string?>("--node-name") { Description = "Member id to ask for when joining (e.g. n4). Default: the one saved in --data-dir, else chosen by the coordinator.", HelpName = "ID" };
        var respPort = new Option<int>("--resp-port") { Description = "Redis-protocol (RESP) port, on --bind with the client port's TLS; 0 picks a free one (printed).", DefaultValueFactory = _ => defaults.RespPort, HelpName = "PORT" };
        var noResp = new Option<bool>("--no-resp") { Description = "Do not listen for Redis clients (RESP)." };
        var internodePort = new Option<int>("--internode-port") { Description = "With --join: internode (gRPC) port; 0 picks a free one.", DefaultValueFactory = _ => defaults.InternodePort, HelpName = "PORT" };
        var authFile = new Option<string?>("--auth-file") { Description = "Hashed client tokens (./ringkv token create): requests need 'Authorization: Bearer'. Required to listen beyond loopback.", HelpName = "PATH" };
        var clusterSecretFile = new Option<string?>("--cluster-secret-file") { Description = "With --join: the cluster secret file (mode 0600), needed to join and replicate.", HelpName = "PATH" };
        var strictQuorum = new Option<bool>("--strict-quorum") { Description = "With --join: count only the key's own replicas towards W (no hinted writes to fallback nodes while an owner is down)." };
        var antiEntropyPause = new Option<double?>("--anti-entropy-pause") { Description = "With --join: seconds between anti-entropy rounds (default 15).", HelpName = "SECONDS" };
        var tls = new TlsOptionSet("PEM certificate of the client and internode listeners (also this node's client certificate towards peers and the coordinator).");
        var tombstoneGrace = new Option<double>("--tombstone-grace")
        {
            Description = "With --join: seconds a tombstone is kept at least before anti-entropy may purge it (once every replica holds it and the cluster is quiet). Must exceed --max-clock-skew.",
            DefaultValueFactory = _ => defaults.TombstoneGrace.TotalSeconds,
            HelpName = "SECONDS",
        };
        var maxClockSkew = new Option<double>("--max-clock-skew")
        {
            Description = "Seconds a version received from another node may be ahead of this node's clock; further ahead, it is refused (and counted).",
            DefaultValueFactory = _ => defaults.MaxClockSkew.TotalSeconds,
            HelpName = "SECONDS",
        };
        // For clock-skew tests on one machine: hidden from help, it is not something to run with.
        var clockOffset = new Option<double>("--clock-offset") { Description = "Testing only: seconds added to this node's wall clock.", Hidden = true, HelpName = "SECONDS" };
        var bind = new Option<string>("--bind") { Description = "Address to listen on. Loopback by default: other machines cannot connect unless you say so.", DefaultValueFactory = _ => defaults.BindAddress, HelpName = "ADDRESS" };
        var advertiseHost = new Option<string?>("--advertise-host") { Description = "With --join: the host name or address other members and clients reach this node at (in the URLs it reports). Default: the --bind address; required when that is 0.0.0.0 or ::.", HelpName = "HOST" };

        var command = new Command("node", $"Run one storage node in the foreground until Ctrl+C or SIGTERM. Prints '{ListeningPrefix}URL' once ready.");
        foreach (var option in new Option[] { port, dataDir, engine, fsync, syncedAcks, minFreeDisk, maxValueBytes, maxKeyBytes, nodeId, bind, advertiseHost, join, nodeName, respPort, noResp, internodePort, authFile, clusterSecretFile, strictQuorum, antiEntropyPause, tombstoneGrace, maxClockSkew, clockOffset })
        {
            command.Options.Add(option);
        }
        tls.AddTo(command);
        var limits = new LimitOptionSet();
        limits.AddTo(command);

        var config = ExplicitOptions.ConfigOption(ConfigFile.NodeSection);
        command.Options.Add(config);

        command.SetAction(async parseResult =>
        {
            var options = parseResult.GetValue(config) is { } file ? ConfigFile.LoadNode(file) : new NodeOptions();
            parseResult.IfGiven(port, v => options.Port = v);
            parseResult.IfGiven(dataDir, v => options.DataDirectory = v);
            parseResult.IfGiven(engine, v => options.Engine = v);
            parseResult.IfGiven(fsync, v => options.Fsync = Enum.Parse<FsyncMode>(v, ignoreCase: true));
            parseResult.IfGiven(syncedAcks, v => options.SyncedAcks = Enum.Parse<SyncedAcks>(v, ignoreCase: true));
            parseResult.IfGiven(minFreeDisk, v => options.MinFreeDiskBytes = SizeText.TryParse(v, out var bytes) ? bytes : options.MinFreeDiskBytes);
            parseResult.IfGiven(maxValueBytes, v => options.MaxValueBytes = v);
            parseResult.IfGiven(maxKeyBytes, v => options.MaxKeyBytes = v);
            parseResult.IfGiven(nodeId, v => options.NodeId = v);
            parseResult.IfGiven(bind, v => options.BindAddress = v);
            parseResult.IfGiven(advertiseHost, v => options.AdvertiseHost = v);
            parseResult.IfGiven(join, v => options.Join = v);
            parseResult.IfGiven(nodeName, v => options.NodeName = v);
            parseResult.IfGiven(internodePort, v => options.InternodePort = v);
            parseResult.IfGiven(respPort, v => options.RespPort = v);
            parseResult.IfGiven(noResp, v => options.RespEnabled = !v);
            parseResult.IfGiven(authFile, v => options.AuthFile = v);
            parseResult.IfGiven(clusterSecretFile, v => options.ClusterSecretFile = v);
            parseResult.IfGiven(strictQuorum, v => options.SloppyQuorum = !v);
            parseResult.IfGiven(antiEntropyPause, v => options.AntiEntropyPause = v is { } seconds ? TimeSpan.FromSeconds(seconds) : null);
            parseResult.IfGiven(tls.Certificate, v => options.TlsCertificateFile = v);
            parseResult.IfGiven(tls.Key, v => options.TlsKeyFile = v);
            parseResult.IfGiven(tls.Authority, v => options.TlsAuthorityFile = v);
            limits.Apply(parseResult, options.Limits);
            parseResult.IfGiven(tombstoneGrace, v => options.TombstoneGrace = TimeSpan.FromSeconds(v));
            parseResult.IfGiven(maxClockSkew, v => options.MaxClockSkew = TimeSpan.FromSeconds(v));
            parseResult.IfGiven(clockOffset, v => options.ClockOffset = TimeSpan.FromSeconds(v));
            return await NodeRunner.RunAsync(options, url => ListeningPrefix + url);
        });
        command.Subcommands.Add(NodeAddCommand.Create());
        command.Subcommands.Add(NodeRemoveCommand.Create());
        return command;
    }
}
