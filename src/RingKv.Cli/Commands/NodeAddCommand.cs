using System.CommandLine;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv node add</c>: the coordinator starts a new local node and admits it into the ring.</summary>
public static class NodeAddCommand
{
    public static Command Create()
    {
        var connection = new ConnectionOptions();
        var command = new Command("add", "Ask the coordinator (--url) to start a new node on this machine and admit it into the ring. Prints the new node's id and URL.");
        connection.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
            await ClientCommandRunner.RunAsync(parseResult, connection, async (client, ct) =>
            {
                var node = await client.AddNodeAsync(ct);
                await Console.Out.WriteLineAsync($"{node.Id} {node.State} {node.ClientUrl}");
                return ExitCodes.Success;
            }, cancellationToken));
        return command;
    }
}
