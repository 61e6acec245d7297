using System.CommandLine;
using RingKv.Cli.Hosting;
using RingKv.Coordinator.Hosting;
using RingKv.Node.Hosting;
using RingKv.Node.Security.Tls;

namespace RingKv.Cli.Commands;

/// <summary>
/// <c>ringkv up</c>: the default local deployment in the foreground: a coordinator and the nodes
/// it launches. With no flags, 5 nodes and 3 copies of every key: it keeps 3 copies through the
/// loss of a node.
/// </summary>
public static class UpCommand
{
    public const string UpPrefix = "RingKV is up at ";
    public const int DefaultNodes = 5;
    public const int DefaultCoordinators = 3;

    public static Command Create()
    {
        var defaults = new CoordinatorOptions();
        var options = new ServerOptionSet(defaults);
        var nodes = new Option<int>("--nodes") { Description = "Storage nodes to run (the coordinator starts them on free loopback ports).", DefaultValueFactory = _ => DefaultNodes, HelpName = "N" };
        var auth = new Option<bool>("--auth") { Description = "Require tokens: generates an admin token on first use, prints it once, and saves it as <data-dir>/admin.token (mode 0600), where ./ringkv finds it." };
        var coordinators = new Option<int>("--coordinators") { Description = "Members of the coordinator group (Raft): 3 by default, so the cluster keeps its control plane and its URL when one dies; 1 runs a single coordinator in this process; 5 is allowed.", DefaultValueFactory = _ => DefaultCoordinators, HelpName = "N" };
        var tls = new Option<bool>("--tls") { Description = "Serve https: makes a certificate authority (<data-dir>/tls/ca.crt, key mode 0600) on first use and a certificate for the coordinator and nodes; ./ringkv trusts that CA by itself when run from the directory holding ringkv-data (else --ca-file or RINGKV_CA)." };
        var command = new Command("up", "Start a local RingKV cluster in the foreground: a coordinator on --port and --nodes storage nodes, and print its URL. Ctrl+C or SIGTERM stops it all cleanly.");
        options.AddTo(command);
        command.Options.Add(nodes);
        command.Options.Add(auth);
        command.Options.Add(tls);
        command.Options.Add(coordinators);
        command.SetAction(async parseResult =>
        {
            var coordinator = options.Bind(parseResult);
            var count = parseResult.GetValue(nodes);
            // Every cluster `up` starts has a secret: only the nodes it starts can join or replicate.
            Directory.CreateDirectory(coordinator.DataDirectory);
            coordinator.ClusterSecretFile ??= Path.GetFullPath(Path.Combine(coordinator.DataDirectory, "cluster.secret"));
            _ = RingKv.Node.Security.ClusterSecret.LoadOrCreate(coordinator.ClusterSecretFile);
            if (parseResult.GetValue(auth))
            {
                coordinator.AuthFile = await AdminToken.EnsureAsync(coordinator.DataDirectory);
            }
            if (parseResult.GetValue(tls) && coordinator.TlsCertificateFile is null)
            {
                var files = LocalAuthority.Ensure(coordinator.DataDirectory, NodeHost.ParseBindAddress(coordinator.BindAddress, authenticated: true), TimeProvider.System);
                coordinator.TlsCertificateFile = files.CertificateFile;
                coordinator.TlsKeyFile = files.KeyFile;
                coordinator.TlsAuthorityFile = files.AuthorityFile;
                await Console.Error.WriteLineAsync($"TLS on. Clients trust the authority {files.AuthorityFile}: ./ringkv --ca-file (or RINGKV_CA), curl --cacert.");
            }
            if (count < 1)
            {
                throw new UsageException("--nodes must be at least 1.");
            }
            if (count < coordinator.ReplicationFactor)
            {
                await Console.Error.WriteLineAsync($"ringkv: warning: {count} nodes cannot hold {coordinator.ReplicationFactor} copies of every key; the cluster will report itself under-replicated.");
            }
            var members = parseResult.GetValue(coordinators);
            if (members is not (1 or 3 or 5))
            {
                throw new UsageException("--coordinators must be 1, 3 or 5 (a group needs a majority alive).");
            }
            string Hint(string url) => $"Dashboard: {url}/ui/\n" +
                       $"{count} nodes, {coordinator.ReplicationFactor} copies of every key" + (members > 1 ? $", {members} coordinators (any one may die)" : string.Empty) +
                       $"; data in {Path.GetFullPath(coordinator.DataDirectory)}. " +
                       $"Try: ./ringkv put hello world --url {url}{CaHint(coordinator)}; ./ringkv status --url {url}{CaHint(coordinator)}" +
                       (coordinator.RespEnabled && coordinator.RespPort != 0 ? $"; redis-cli -p {coordinator.RespPort} (Redis clients, any node behind it)" : string.Empty) + ". Ctrl+C stops.";
            if (members > 1)
            {
                var token = coordinator.AuthFile is null ? null : AdminToken.Read(coordinator.DataDirectory);
                return await new CoordinatorGroupRunner(coordinator, members, token).RunAsync(count, url => UpPrefix + url, Hint);
            }
            return await CoordinatorRunner.RunAsync(coordinator, count, url => UpPrefix + url, Hint);
        });
        return command;
    }

    /// <summary>The --ca-file a client needs, unless it finds the authority by itself (the default data directory).</summary>
    private static string CaHint(CoordinatorOptions coordinator) =>
        coordinator.TlsAuthorityFile is { } authority && Path.GetFullPath(authority) != Path.GetFullPath(LocalAuthority.DefaultAuthorityPath)
            ? " --ca-file " + authority
            : string.Empty;
}
