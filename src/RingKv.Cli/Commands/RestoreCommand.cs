using System.CommandLine;
using RingKv.Cli.Backup;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv restore DIR</c> (docs/BACKUP.md).</summary>
public static class RestoreCommand
{
    public static Command Create()
    {
        var directory = new Argument<string>("DIR") { Description = "A complete backup directory (ringkv backup)." };
        var connection = new ConnectionOptions();
        var command = new Command("restore", "Load a backup into a running cluster of any size and replication factor, through the replicated write path "
            + "with the backup's versions: a newer value already in the cluster is kept, expired keys stay gone. The backup is verified first. Needs the admin role. "
            + "Safe to run again. Exit codes: 0 restored, 2 usage error, 3 the backup does not check out, or a server or network error.");
        command.Arguments.Add(directory);
        connection.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
            await BackupCommand.RunAsync(parseResult, connection, (http, url, ct) =>
                new RestoreRunner(http, url, Console.Out, Console.Error).RunAsync(parseResult.GetValue(directory)!, ct), cancellationToken));
        return command;
    }
}
