using RingKv.Node.Security;

namespace RingKv.Cli.Commands;

/// <summary>The admin token of <c>./ringkv up --auth</c>: created once per data directory, printed once.</summary>
public static class AdminToken
{
    public const string FileName = "admin.token";
    public const string AuthFileName = "auth.json";

    /// <summary>Where the CLI looks when neither --token nor RINGKV_TOKEN is given: the default data directory's token.</summary>
    public static string DefaultPath => Path.Combine("ringkv-data", FileName);

    /// <summary>Returns the auth file of the data directory, creating it and an admin token on first use.</summary>
    public static async Task<string> EnsureAsync(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var authFile = Path.GetFullPath(Path.Combine(dataDirectory, AuthFileName));
        var tokenFile = Path.GetFullPath(Path.Combine(dataDirectory, FileName));
        if (File.Exists(authFile))
        {
            await Console.Error.WriteLineAsync($"Authentication on: tokens in {authFile}; the admin token is in {tokenFile}.");
            return authFile;
        }
        var (token, record) = TokenStore.Create("admin", Role.Admin);
        TokenStore.Write(authFile, [record]);
        SecretFile.Write(tokenFile, System.Text.Encoding.UTF8.GetBytes(token + "\n"));
        await Console.Error.WriteLineAsync($"Authentication on. Admin token (shown once; also saved to {tokenFile}, mode 0600):");
        await Console.Error.WriteLineAsync(token);
        return authFile;
    }

    /// <summary>The admin token saved in a data directory by <see cref="EnsureAsync"/>; null when there is none.</summary>
    public static string? Read(string dataDirectory)
    {
        var tokenFile = Path.Combine(dataDirectory, FileName);
        return File.Exists(tokenFile) ? File.ReadAllText(tokenFile).Trim() : null;
    }
}
