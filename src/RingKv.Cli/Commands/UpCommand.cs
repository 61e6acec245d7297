using System.CommandLine;
using RingKv.Cli.Hosting;
using RingKv.Node.Hosting;

namespace RingKv.Cli.Commands;

/// <summary>
/// <c>ringkv up</c>: the default local deployment in the foreground. For now one durable node on
/// loopback; the cluster issue turns the same command into a coordinator plus nodes.
/// </summary>
public static class UpCommand
{
    public const string UpPrefix = "RingKV is up at ";

    public static Command Create()
    {
        var defaults = new NodeOptions();
        var port = new Option<int>("--port") { Description = "Client API port; 0 picks a free one (printed).", DefaultValueFactory = _ => defaults.Port, HelpName = "PORT" };
        var dataDir = new Option<string>("--data-dir") { Description = "Where the data is kept.", DefaultValueFactory = _ => defaults.DataDirectory, HelpName = "DIR" };

        var command = new Command("up", "Start RingKV locally in the foreground (one rocksdb node on 127.0.0.1) and print its URL. Ctrl+C or SIGTERM stops it cleanly.");
        command.Options.Add(port);
        command.Options.Add(dataDir);

        command.SetAction(async parseResult =>
        {
            var options = new NodeOptions
            {
                Port = parseResult.GetValue(port),
                DataDirectory = parseResult.GetValue(dataDir) ?? defaults.DataDirectory,
                Engine = "rocksdb",
            };
            return await NodeRunner.RunAsync(
                options,
                url => UpPrefix + url,
                url => $"Data in {Path.GetFullPath(options.DataDirectory)}. Try: ./ringkv put hello world --url {url}. Ctrl+C stops.");
        });
        return command;
    }
}
