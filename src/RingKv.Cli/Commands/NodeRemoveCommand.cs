using System.CommandLine;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv node remove ID</c>: decommission a live node (its ranges move first), or remove a dead one with --force.</summary>
public static class NodeRemoveCommand
{
    public static Command Create()
    {
        var id = new Argument<string>("ID") { Description = "The node to remove (see ./ringkv status)." };
        var force = new Option<bool>("--force") { Description = "Remove a dead node: its copies are rebuilt from the surviving replicas." };
        var connection = new ConnectionOptions();
        var command = new Command("remove", "Decommission a node: it becomes 'leaving', its ranges stream to their new owners and are verified, then it leaves the ring and (if the coordinator started it) stops. Refused if fewer live nodes than the replication factor would remain.");
        command.Arguments.Add(id);
        command.Options.Add(force);
        connection.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var nodeId = ClientCommandRunner.RequireKey(parseResult.GetValue(id));
            return await ClientCommandRunner.RunAsync(parseResult, connection, async (client, ct) =>
            {
                await client.RemoveNodeAsync(nodeId, parseResult.GetValue(force), ct);
                await Console.Out.WriteLineAsync($"{nodeId}: removal started; follow it with ./ringkv status");
                return ExitCodes.Success;
            }, cancellationToken);
        });
        return command;
    }
}
