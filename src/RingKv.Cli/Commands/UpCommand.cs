using System.CommandLine;
using RingKv.Cli.Hosting;
using RingKv.Coordinator.Hosting;

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

    public static Command Create()
    {
        var defaults = new CoordinatorOptions();
        var options = new ServerOptionSet(defaults);
        var nodes = new Option<int>("--nodes") { Description = "Storage nodes to run (the coordinator starts them on free loopback ports).", DefaultValueFactory = _ => DefaultNodes, HelpName = "N" };
        var auth = new Option<bool>("--auth") { Description = "Require tokens: generates an admin token on first use, prints it once, and saves it as <data-dir>/admin.token (mode 0600), where ./ringkv finds it." };
        var command = new Command("up", "Start a local RingKV cluster in the foreground: a coordinator on --port and --nodes storage nodes, and print its URL. Ctrl+C or SIGTERM stops it all cleanly.");
        options.AddTo(command);
        command.Options.Add(nodes);
        command.Options.Add(auth);
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
            if (count < 1)
            {
                throw new UsageException("--nodes must be at least 1.");
            }
            if (count < coordinator.ReplicationFactor)
            {
                await Console.Error.WriteLineAsync($"ringkv: warning: {count} nodes cannot hold {coordinator.ReplicationFactor} copies of every key; the cluster will report itself under-replicated.");
            }
            return await CoordinatorRunner.RunAsync(
                coordinator,
                count,
                url => UpPrefix + url,
                url => $"{count} nodes, {coordinator.ReplicationFactor} copies of every key; data in {Path.GetFullPath(coordinator.DataDirectory)}. " +
                       $"Try: ./ringkv put hello world --url {url}; ./ringkv status --url {url}. Ctrl+C stops.");
        });
        return command;
    }
}
