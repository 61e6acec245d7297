using System.CommandLine;
using RingKv.Client;
using RingKv.Node.Security.Tls;

namespace RingKv.Cli.Commands;

/// <summary>
/// <c>--url</c>, <c>--token</c> and <c>--ca-file</c>, shared by every command that talks to a server. Each falls back
/// to an environment variable so a shell session can point at one cluster once.
/// </summary>
public sealed class ConnectionOptions
{
    public const string UrlVariable = "RINGKV_URL";
    public const string TokenVariable = "RINGKV_TOKEN";
    public const string CaVariable = "RINGKV_CA";
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

    public Option<string?> CaFile { get; } = new("--ca-file")
    {
        Description = $"PEM certificate of the authority an https server's certificate must chain to (and nothing else). Default: ${CaVariable}, else {LocalAuthority.DefaultAuthorityPath} if present (./ringkv up --tls), else the system's roots.",
        HelpName = "PATH",
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Url);
        command.Options.Add(Token);
        command.Options.Add(CaFile);
    }

    /// <summary>The CA file to trust, or null for the system's roots. A file named explicitly must exist.</summary>
    public string? ResolveCaFile(ParseResult parseResult)
    {
        var path = parseResult.GetValue(CaFile);
        if (string.IsNullOrWhiteSpace(path))
        {
            path = Environment.GetEnvironmentVariable(CaVariable);
        }
        if (string.IsNullOrWhiteSpace(path))
        {
            // What `./ringkv up --tls` made in the default data directory.
            return File.Exists(LocalAuthority.DefaultAuthorityPath) ? LocalAuthority.DefaultAuthorityPath : null;
        }
        return File.Exists(path) ? path : throw new UsageException($"The CA file '{path}' does not exist. ./ringkv up --tls writes one to <data-dir>/tls/ca.crt.");
    }

    /// <summary>An HTTP handler trusting the resolved CA file (see <see cref="ResolveCaFile"/>).</summary>
    public SocketsHttpHandler CreateHandler(ParseResult parseResult)
    {
        try
        {
            return TrustedAuthority.CreateHandler(ResolveCaFile(parseResult));
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message, e);
        }
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
