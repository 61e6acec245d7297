using System.CommandLine;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv locate KEY</c>: the nodes that hold a key, in preference-list order.</summary>
public static class LocateCommand
{
    public static Command Create()
    {
        var key = new Argument<string>("KEY") { Description = "The key to locate." };
        var connection = new ConnectionOptions();
        var command = new Command("locate", "Show the key's ring token and its replicas (the preference list), in order: one line per replica.");
        command.Arguments.Add(key);
        connection.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var keyText = ClientCommandRunner.RequireKey(parseResult.GetValue(key));
            return await ClientCommandRunner.RunAsync(parseResult, connection, async (client, ct) =>
            {
                var location = await client.LocateAsync(keyText, ct);
                await Console.Out.WriteLineAsync($"key {location.Key}  token {location.Token}");
                foreach (var replica in location.Replicas)
                {
                    await Console.Out.WriteLineAsync($"{replica.Id,-6} {replica.State,-8} {replica.ClientUrl}");
                }
                return ExitCodes.Success;
            }, cancellationToken);
        });
        return command;
    }
}
