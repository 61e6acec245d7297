using System.CommandLine;
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

        var command = new Command("node", $"Run one storage node in the foreground until Ctrl+C or SIGTERM. Prints '{ListeningPrefix}URL' once ready.");
        foreach (var option in new Option[] { port, dataDir, engine, fsync, syncedAcks, maxValueBytes, maxKeyBytes, nodeId, bind, join, nodeName, respPort, noResp, internodePort, authFile, clusterSecretFile, strictQuorum, antiEntropyPause, tombstoneGrace, maxClockSkew, clockOffset })
        {
            command.Options.Add(option);
        }
        tls.AddTo(command);
        var limits = new LimitOptionSet();
        limits.AddTo(command);

        command.SetAction(async parseResult =>
        {
            var options = new NodeOptions
            {
                Port = parseResult.GetValue(port),
                DataDirectory = parseResult.GetValue(dataDir) ?? defaults.DataDirectory,
                Engine = parseResult.GetValue(engine) ?? defaults.Engine,
                Fsync = Enum.Parse<FsyncMode>(parseResult.GetValue(fsync) ?? defaults.Fsync.ToString(), ignoreCase: true),
                SyncedAcks = Enum.Parse<SyncedAcks>(parseResult.GetValue(syncedAcks) ?? defaults.SyncedAcks.ToString(), ignoreCase: true),
                MaxValueBytes = parseResult.GetValue(maxValueBytes),
                MaxKeyBytes = parseResult.GetValue(maxKeyBytes),
                NodeId = parseResult.GetValue(nodeId),
                BindAddress = parseResult.GetValue(bind) ?? defaults.BindAddress,
                Join = parseResult.GetValue(join),
                NodeName = parseResult.GetValue(nodeName),
                InternodePort = parseResult.GetValue(internodePort),
                RespPort = parseResult.GetValue(respPort),
                RespEnabled = !parseResult.GetValue(noResp),
                AuthFile = parseResult.GetValue(authFile),
                ClusterSecretFile = parseResult.GetValue(clusterSecretFile),
                SloppyQuorum = !parseResult.GetValue(strictQuorum),
                AntiEntropyPause = parseResult.GetValue(antiEntropyPause) is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                TlsCertificateFile = parseResult.GetValue(tls.Certificate),
                TlsKeyFile = parseResult.GetValue(tls.Key),
                TlsAuthorityFile = parseResult.GetValue(tls.Authority),
                Limits = limits.Bind(parseResult),
                TombstoneGrace = TimeSpan.FromSeconds(parseResult.GetValue(tombstoneGrace)),
                MaxClockSkew = TimeSpan.FromSeconds(parseResult.GetValue(maxClockSkew)),
                ClockOffset = TimeSpan.FromSeconds(parseResult.GetValue(clockOffset)),
            };
            return await NodeRunner.RunAsync(options, url => ListeningPrefix + url);
        });
        command.Subcommands.Add(NodeAddCommand.Create());
        command.Subcommands.Add(NodeRemoveCommand.Create());
        return command;
    }
}
