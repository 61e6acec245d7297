using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RingKv.Coordinator.Hosting;

namespace RingKv.Cli.Hosting;

/// <summary>
/// Runs the coordinator in the foreground until SIGINT or SIGTERM, for <c>coordinator</c> and
/// <c>up</c>; with <c>up</c> it also launches the nodes. Prints one line to standard output once
/// ready (the URL); logs go to standard error.
/// </summary>
public static class CoordinatorRunner
{
    private static readonly string[] HostArguments =
    [
        "--Logging:Console:LogToStandardErrorThreshold=Trace",
    ];

    public static async Task<int> RunAsync(CoordinatorOptions options, int nodesToRun, Func<string, string> announcement, Func<string, string>? hint = null)
    {
        WebApplication app;
        try
        {
            app = CoordinatorHost.Build(options, HostArguments);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message, e);
        }
        catch (Exception e)
        {
            await Console.Error.WriteLineAsync($"ringkv: the coordinator could not start: {e.Message}");
            return ExitCodes.Failure;
        }

        await using (app)
        {
            string url;
            try
            {
                url = (await CoordinatorHost.StartAsync(app)).TrimEnd('/');
            }
            catch (Exception e)
            {
                await Console.Error.WriteLineAsync($"ringkv: the coordinator could not start on {options.BindAddress}:{options.Port}: {e.Message}");
                return ExitCodes.Failure;
            }
            if (nodesToRun > 0)
            {
                await Console.Error.WriteLineAsync($"Coordinator at {url}; starting {nodesToRun} nodes (replication factor {options.ReplicationFactor})...");
                try
                {
                    await CoordinatorHost.LaunchNodesAsync(app, nodesToRun, app.Lifetime.ApplicationStopping);
                }
                catch (Exception e) when (e is TimeoutException or InvalidOperationException)
                {
                    await Console.Error.WriteLineAsync($"ringkv: {e.Message}");
                    await app.StopAsync();
                    return ExitCodes.Failure;
                }
                catch (OperationCanceledException)
                {
                    return ExitCodes.Success;
                }
            }
            // The RESP address rides on the same line, after the URL, so the line stays one to parse.
            var resp = app.Services.GetRequiredService<CoordinatorListeners>().RespUrl(options.TlsCertificateFile is not null);
            await Console.Out.WriteLineAsync(announcement(url) + (resp is null ? string.Empty : $" (RESP {resp})"));
            await Console.Out.FlushAsync();
            if (hint is not null)
            {
                await Console.Error.WriteLineAsync(hint(url));
            }
            await app.WaitForShutdownAsync();
        }
        return ExitCodes.Success;
    }
}
