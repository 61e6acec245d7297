using System.Diagnostics;
using HdrHistogram;
using RingKv.Client;

namespace RingKv.Cli.Bench;

/// <summary>
/// A closed-loop load generator: <see cref="BenchSettings.Concurrency"/> workers, each sending its
/// next request as soon as the previous one answered, until the duration is over. Closed loop means
/// throughput is bounded by latency (not an open-loop arrival rate), like wrk with one request per
/// connection in flight.
/// </summary>
public sealed class LoadGenerator
{
    // Histogram range in microseconds: 1 µs .. 60 s, 3 significant digits. The client gives up
    // after 30 s, so nothing recorded exceeds it.
    private const long HighestMicros = 60_000_000;

    private readonly RingKvClient _client;
    private readonly BenchSettings _settings;
    private readonly byte[] _value;
    private readonly string[] _keys;
    private readonly Stopwatch _clock = new();
    private long _requests;
    private int _nextFill = -1;
    private long _errors;
    private string? _firstError;

    public LoadGenerator(RingKvClient client, BenchSettings settings)
    {
        _client = client;
        _settings = settings;
        _value = new byte[settings.ValueSize];
        Random.Shared.NextBytes(_value);
        _keys = new string[settings.Keys];
        for (var i = 0; i < _keys.Length; i++)
        {
            _keys[i] = BenchSettings.KeyAt(i);
        }
    }

    public long Requests => Interlocked.Read(ref _requests);

    public long Errors => Interlocked.Read(ref _errors);

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Writes every key once, so reads find them. Fails on the first error: a read benchmark over missing keys measures nothing.</summary>
    public async Task PreloadAsync(CancellationToken cancellationToken)
    {
        var next = -1;
        var workers = Enumerable.Range(0, Math.Min(_settings.Concurrency, _keys.Length)).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < _keys.Length)
            {
                await _client.PutAsync(_keys[index], _value, cancellationToken: cancellationToken);
            }
        }, cancellationToken));
        await Task.WhenAll(workers);
    }

    /// <summary>Runs the workers for the duration, or until <paramref name="stopEarly"/>; requests in flight then finish and count.</summary>
    public async Task<BenchResult> RunAsync(CancellationToken stopEarly)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopEarly);
        stop.CancelAfter(_settings.Duration);
        _clock.Start();
        var workers = Enumerable.Range(0, _settings.Concurrency).Select(_ => Task.Run(() => WorkerAsync(stop.Token), CancellationToken.None));
        var histograms = await Task.WhenAll(workers);
        _clock.Stop();

        var total = new LongHistogram(HighestMicros, 3);
        foreach (var histogram in histograms)
        {
            total.Add(histogram);
        }
        var empty = total.TotalCount == 0;
        double Ms(double micros) => empty ? 0 : micros / 1000.0;
        return new BenchResult(
            _settings,
            Requests,
            Errors,
            _clock.Elapsed,
            Ms(total.GetValueAtPercentile(50)),
            Ms(total.GetValueAtPercentile(90)),
            Ms(total.GetValueAtPercentile(99)),
            Ms(total.GetValueAtPercentile(99.9)),
            Ms(total.GetMaxValue()),
            Ms(total.GetMean()),
            Volatile.Read(ref _firstError));
    }

    private async Task<LongHistogram> WorkerAsync(CancellationToken stop)
    {
        var histogram = new LongHistogram(HighestMicros, 3);
        var random = new Random();
        while (!stop.IsCancellationRequested)
        {
            string key;
            if (_settings.Operation == BenchOperation.Fill)
            {
                var index = Interlocked.Increment(ref _nextFill);
                if (index >= _keys.Length)
                {
                    break;
                }
                key = _keys[index];
            }
            else
            {
                key = _keys[random.Next(_keys.Length)];
            }
            var read = _settings.Operation switch
            {
                BenchOperation.Get => true,
                BenchOperation.Put or BenchOperation.Fill => false,
                _ => random.Next(100) < BenchSettings.MixedReadPercent,
            };
            var start = Stopwatch.GetTimestamp();
            try
            {
                if (read)
                {
                    if (await _client.GetAsync(key) is null)
                    {
                        Fail($"GET {key}: 404 although the key was written before the run.");
                        continue;
                    }
                }
                else
                {
                    await _client.PutAsync(key, _value);
                }
                var micros = (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                histogram.RecordValue(Math.Clamp(micros, 1, HighestMicros));
                Interlocked.Increment(ref _requests);
            }
            catch (Exception e) when (e is RingKvException or HttpRequestException or TaskCanceledException)
            {
                Fail($"{(read ? "GET" : "PUT")} {key}: {e.Message}");
            }
        }
        return histogram;
    }

    private void Fail(string message)
    {
        Interlocked.Increment(ref _errors);
        Interlocked.CompareExchange(ref _firstError, message, null);
    }
}
