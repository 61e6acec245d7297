using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RingKv.Node.Hosting;
using RingKv.Node.Membership;

namespace RingKv.Cli.Hosting;

/// <summary>
/// Runs one storage node in the foreground until SIGINT or SIGTERM, for <c>up</c> and <c>node</c>.
/// Once listening it prints exactly one line to standard output naming the real URL (tests and
/// scripts parse it; with <c>--port 0</c> it carries the chosen port); logs go to standard error.
/// </summary>
public static class NodeRunner
{
    // Command-line configuration for the host: logs at Warning and above, all on standard error,
    // so standard output carries only the announcement line.
    private static readonly string[] HostArguments =
    [
        "--Logging:LogLevel:Default=Warning",
        "--Logging:Console:LogToStandardErrorThreshold=Trace",
    ];

    public static async Task<int> RunAsync(NodeOptions options, Func<string, string> announcement, Func<string, string>? hint = null)
    {
        WebApplication app;
        try
        {
            app = NodeHost.Build(options, HostArguments);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message, e);
        }
        catch (Exception e)
        {
            // E.g. the data directory is locked by another node, or not writable.
            await Console.Error.WriteLineAsync($"ringkv: the node could not start: {e.Message}");
            return ExitCodes.Failure;
        }

        await using (app)
        {
            try
            {
                await app.StartAsync();
            }
            catch (Exception e)
            {
                await Console.Error.WriteLineAsync($"ringkv: the node could not start on {options.BindAddress}:{options.Port}: {e.Message}");
                return ExitCodes.Failure;
            }

            // The client listener's URL: a clustered node also listens on an internode port.
            var endpoints = app.Services.GetRequiredService<NodeEndpoints>();
            var url = endpoints.ClientUrl;
            // The RESP address rides on the same line, after the URL, so the line stays one to parse.
            await Console.Out.WriteLineAsync(announcement(url.TrimEnd('/')) + (endpoints.RespUrl is { } resp ? $" (RESP {resp})" : string.Empty));
            await Console.Out.FlushAsync();
            if (hint is not null)
            {
                await Console.Error.WriteLineAsync(hint(url.TrimEnd('/')));
            }

            // The host's console lifetime turns SIGINT/SIGTERM into a graceful stop: in-flight
            // requests finish and the engine is disposed (rocksdb flushes) before we return.
            await app.WaitForShutdownAsync();
        }
        return ExitCodes.Success;
    }
}
