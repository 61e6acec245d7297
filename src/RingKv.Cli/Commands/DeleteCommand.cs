using System.CommandLine;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv delete KEY</c>: idempotent, like the API: deleting an absent key succeeds.</summary>
public static class DeleteCommand
{
    public static Command Create()
    {
        var key = new Argument<string>("KEY") { Description = "The key to delete." };
        var connection = new ConnectionOptions();
        var command = new Command("delete", "Delete a key. Succeeds also when the key is absent. "
            + "Exit codes: 0 deleted or absent, 2 usage error, 3 server or network error.");
        command.Arguments.Add(key);
        connection.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var keyText = ClientCommandRunner.RequireKey(parseResult.GetValue(key));
            return await ClientCommandRunner.RunAsync(parseResult, connection, async (client, ct) =>
            {
                await client.DeleteAsync(keyText, cancellationToken: ct);
                return ExitCodes.Success;
            }, cancellationToken);
        });
        return command;
    }
}
