using System.CommandLine;

namespace RingKv.Cli.Commands;

/// <summary>
/// <c>--url</c> and <c>--token</c>, shared by every command that talks to a server. Each falls back
/// to an environment variable so a shell session can point at one cluster once.
/// </summary>
public sealed class ConnectionOptions
{
    public const string UrlVariable = "RINGKV_URL";
    public const string TokenVariable = "RINGKV_TOKEN";
    public const string DefaultUrl = "http://127.0.0.1:7000";

    public Option<string?> Url { get; } = new("--url")
    {
        Description = $"Server URL. Default: ${UrlVariable}, else {DefaultUrl}.",
        HelpName = "URL",
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"Bearer token sent as 'Authorization: Bearer'. Default: ${TokenVariable}, else {AdminToken.DefaultPath} if present, else none.",
        HelpName = "TOKEN",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Token);
    }

    public Uri ResolveUrl(ParseResult parseResult)
    {
        var text = parseResult.GetValue(Url);
        if (string.IsNullOrWhiteSpace(text))
        {
            text = Environment.GetEnvironmentVariable(UrlVariable);
        }
        if (string.IsNullOrWhiteSpace(text))
        {
            text = DefaultUrl;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new UsageException($"'{text}' is not a server URL. Give one like {DefaultUrl}.");
        }
        return url;
    }

    public string? ResolveToken(ParseResult parseResult)
    {
        var token = parseResult.GetValue(Token);
        if (string.IsNullOrEmpty(token))
        {
            token = Environment.GetEnvironmentVariable(TokenVariable);
        }
        if (string.IsNullOrEmpty(token) && File.Exists(AdminToken.DefaultPath))
        {
            // What `./ringkv up --auth` saved in the default data directory.
            token = File.ReadAllText(AdminToken.DefaultPath).Trim();
        }
        return string.IsNullOrEmpty(token) ? null : token;
    }
}
