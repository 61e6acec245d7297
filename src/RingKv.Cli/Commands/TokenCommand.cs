using System.CommandLine;
using RingKv.Node.Security;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv token create</c>: a new client token, printed once, its hash added to an auth file.</summary>
public static class TokenCommand
{
    public static Command Create()
    {
        var role = new Option<Role>("--role") { Description = "read (GET, list), write (also PUT, DELETE) or admin (also cluster changes and /v1/local).", DefaultValueFactory = _ => Role.Read };
        var name = new Option<string>("--name") { Description = "A label for the token in the auth file.", DefaultValueFactory = _ => "client" };
        var authFile = new Option<string>("--auth-file") { Description = "The auth file to add the token's hash to (created if missing, mode 0600).", DefaultValueFactory = _ => "auth.json", HelpName = "PATH" };
        var create = new Command("create", "Create a token with 256 random bits. The token is printed once on standard output; only its SHA-256 hash is stored, in --auth-file.");
        create.Options.Add(role);
        create.Options.Add(name);
        create.Options.Add(authFile);
        create.SetAction(async parseResult =>
        {
            var path = parseResult.GetValue(authFile)!;
            var existing = File.Exists(path) ? TokenStoreFile.Read(path) : [];
            var (token, record) = TokenStore.Create(parseResult.GetValue(name)!, parseResult.GetValue(role));
            TokenStore.Write(path, [.. existing, record]);
            await Console.Out.WriteLineAsync(token);
            await Console.Error.WriteLineAsync($"Added '{record.Name}' ({record.Role}) to {Path.GetFullPath(path)}. Start servers with --auth-file {path}; clients send the token with --token or RINGKV_TOKEN.");
            return ExitCodes.Success;
        });
        var command = new Command("token", "Manage client tokens.");
        command.Subcommands.Add(create);
        return command;
    }
}
