using System.Collections.Concurrent;
using System.Net;

namespace RingKv.Cluster.Tests.Harness;

/// <summary>
/// A steady write load through the live nodes, each key written once, every outcome recorded:
/// acknowledged, refused, or unknown (a timeout). Bounded in count and time; stops when asked.
/// </summary>
public sealed class WriteLoad : IAsyncDisposable
{
    private readonly TestCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _attempted;
    private int _failed;

    public WriteLoad(TestCluster cluster, string prefix, int maxWrites = 20_000)
    {
        _cluster = cluster;
        _loop = Task.Run(() => RunAsync(prefix, maxWrites));
    }

    public ConcurrentDictionary<string, string> Acknowledged { get; } = new(StringComparer.Ordinal);

    public int Attempted => Volatile.Read(ref _attempted);

    public int Failed => Volatile.Read(ref _failed);

    public double ErrorRate => Attempted == 0 ? 0 : (double)Failed / Attempted;

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _loop;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(string prefix, int maxWrites)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        for (var i = 0; i < maxWrites && !_stop.IsCancellationRequested && DateTime.UtcNow < deadline; i++)
        {
            var nodes = _cluster.Running.ToList();
            if (nodes.Count == 0)
            {
                return;
            }
            var node = nodes[i % nodes.Count];
            var key = $"{prefix}/{i}";
            var value = "v" + i;
            Interlocked.Increment(ref _attempted);
            try
            {
                using var response = await http.PutAsync(new Uri(node.Url, "/v1/kv/" + Uri.EscapeDataString(key)), new StringContent(value));
                if (response.StatusCode == HttpStatusCode.NoContent)
                {
                    Acknowledged[key] = value;
                }
                else
                {
                    Interlocked.Increment(ref _failed);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // A node killed under us: the outcome is unknown, counted as a failure for the error rate.
                Interlocked.Increment(ref _failed);
            }
        }
    }
}
