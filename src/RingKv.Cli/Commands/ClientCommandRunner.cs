using System.CommandLine;
using RingKv.Client;

namespace RingKv.Cli.Commands;

/// <summary>Runs a client command: builds the client, and turns server and network failures into exit code 3 with the server's own words.</summary>
public static class ClientCommandRunner
{
    // Long enough for a 1 MiB value on a slow link; short enough that a hung server does not hang a script.
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(
        ParseResult parseResult,
        ConnectionOptions connection,
        Func<RingKvClient, CancellationToken, Task<int>> action,
        CancellationToken cancellationToken)
    {
        var url = connection.ResolveUrl(parseResult);
        using var http = new HttpClient(connection.CreateHandler(parseResult)) { BaseAddress = url, Timeout = RequestTimeout };
        using var client = new RingKvClient(http, connection.ResolveToken(parseResult));
        try
        {
            return await action(client, cancellationToken);
        }
        catch (RingKvException e)
        {
            await Console.Error.WriteLineAsync($"ringkv: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (HttpRequestException e) when (e.InnerException is System.Security.Authentication.AuthenticationException tls)
        {
            await Console.Error.WriteLineAsync(
                $"ringkv: refusing {url}: its TLS certificate is not trusted ({tls.Message.TrimEnd('.')}). " +
                $"Give the cluster's authority with --ca-file or ${ConnectionOptions.CaVariable} (./ringkv up --tls writes <data-dir>/tls/ca.crt).");
            return ExitCodes.Failure;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"ringkv: cannot reach {url}: {e.Message.TrimEnd('.')}. Is a node running there? Start one with './ringkv up'.");
            return ExitCodes.Failure;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync($"ringkv: {url} did not answer within {RequestTimeout.TotalSeconds:0} s.");
            return ExitCodes.Failure;
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message, e);
        }
    }

    public static string RequireKey(string? key) =>
        string.IsNullOrEmpty(key) ? throw new UsageException("A key must not be empty.") : key;
}
