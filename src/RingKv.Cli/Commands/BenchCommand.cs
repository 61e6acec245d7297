using System.CommandLine;
using System.Net;
using RingKv.Cli.Bench;
using RingKv.Client;

namespace RingKv.Cli.Commands;

/// <summary><c>ringkv bench</c>: drives a running server and reports throughput and latency percentiles.</summary>
public static class BenchCommand
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var op = new Option<string>("--op")
        {
            Description = $"put: writes; get: reads (keys written first); mixed: {BenchSettings.MixedReadPercent}% reads, {100 - BenchSettings.MixedReadPercent}% writes (keys written first); fill: writes each key of --keys once, in order, then stops.",
            DefaultValueFactory = _ => "put",
        };
        op.AcceptOnlyFromAmong("put", "get", "mixed", "fill");
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent closed-loop workers (and HTTP/1.1 connections).", DefaultValueFactory = _ => 50, HelpName = "C" }
            .Require(c => c is >= 1 and <= 10_000, "--concurrency must be between 1 and 10000.");
        var duration = new Option<double>("--duration") { Description = "How long to measure, in seconds.", DefaultValueFactory = _ => 10, HelpName = "SECONDS" }
            .Require(d => d is > 0 and <= 86_400, "--duration must be more than 0 and at most 86400 seconds.");
        var valueSize = new Option<int>("--value-size") { Description = "Bytes per written value.", DefaultValueFactory = _ => 100, HelpName = "BYTES" }
            .Require(b => b >= 0, "--value-size must not be negative.");
        var keys = new Option<int>("--keys") { Description = "Size of the key space (keys bench/00000000 ...), picked uniformly at random.", DefaultValueFactory = _ => 10_000, HelpName = "K" }
            .Require(k => k >= 1, "--keys must be at least 1.");
        var json = new Option<bool>("--json") { Description = "Print one JSON object on standard output instead of text." };
        var connection = new ConnectionOptions();

        var command = new Command("bench", "Load a running server for a while and print throughput (ops/s), errors and p50/p90/p99/p99.9 latency. "
            + "A progress line is written to standard error every second. Exit codes: 0 measured, 2 usage error, 3 no request succeeded.");
        foreach (var option in new Option[] { op, concurrency, duration, valueSize, keys, json })
        {
            command.Options.Add(option);
        }
        connection.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var settings = new BenchSettings(
                connection.ResolveUrl(parseResult),
                connection.ResolveToken(parseResult),
                Enum.Parse<BenchOperation>(parseResult.GetValue(op) ?? "put", ignoreCase: true),
                parseResult.GetValue(concurrency),
                TimeSpan.FromSeconds(parseResult.GetValue(duration)),
                parseResult.GetValue(valueSize),
                parseResult.GetValue(keys));
            using var handler = connection.CreateHandler(parseResult);
            return await RunAsync(settings, handler, parseResult.GetValue(json), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(BenchSettings settings, SocketsHttpHandler handler, bool json, CancellationToken cancellationToken)
    {
        // One connection per worker: closed-loop HTTP/1.1 has one request in flight per connection.
        handler.MaxConnectionsPerServer = settings.Concurrency;
        handler.PooledConnectionLifetime = Timeout.InfiniteTimeSpan;
        handler.UseProxy = false;
        handler.UseCookies = false;
        handler.AllowAutoRedirect = false;
        handler.AutomaticDecompression = DecompressionMethods.None;
        handler.ConnectTimeout = TimeSpan.FromSeconds(5);
        using var http = new HttpClient(handler, disposeHandler: false) { BaseAddress = settings.Url, Timeout = RequestTimeout };
        using var client = new RingKvClient(http, settings.Token);
        var generator = new LoadGenerator(client, settings);

        if (settings.NeedsPreload)
        {
            await Console.Error.WriteLineAsync($"ringkv bench: writing {settings.Keys} keys of {settings.ValueSize} bytes first...");
            try
            {
                await generator.PreloadAsync(cancellationToken);
            }
            catch (Exception e) when (e is RingKvException or HttpRequestException or TaskCanceledException)
            {
                await Console.Error.WriteLineAsync($"ringkv bench: writing the keys to {settings.Url} failed: {e.Message}");
                return ExitCodes.Failure;
            }
        }

        // First Ctrl+C ends the run early and still reports; a second one kills the process as usual.
        using var stopEarly = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (!stopEarly.IsCancellationRequested)
            {
                e.Cancel = true;
                stopEarly.Cancel();
            }
        };
        Console.CancelKeyPress += onCancel;
        BenchResult result;
        try
        {
            using var progressStop = new CancellationTokenSource();
            var progress = new ProgressLine().RunAsync(generator, settings.Duration, progressStop.Token);
            result = await generator.RunAsync(stopEarly.Token);
            await progressStop.CancelAsync();
            await progress;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        await Console.Out.WriteAsync(json ? BenchReport.ToJson(result) + "\n" : BenchReport.ToText(result));
        await Console.Out.FlushAsync(cancellationToken);
        if (result.Requests == 0)
        {
            await Console.Error.WriteLineAsync($"ringkv bench: no request succeeded against {settings.Url}. First error: {result.FirstError}");
            return ExitCodes.Failure;
        }
        return ExitCodes.Success;
    }
}
