using System.Globalization;
using System.Net;
using RingKv.Cluster.Tests.Histories;
using RingKv.Testing;

namespace RingKv.Cluster.Tests.Partitions;

/// <summary>A load client: talks from inside a node's namespace, writes through one node and reads through another (often the same).</summary>
/// <param name="Keys">The keys this client picks from at random.</param>
public sealed record LoadClient(int Id, HttpClient Http, Uri WriteNode, Uri ReadNode, IReadOnlyList<string> Keys);

/// <summary>
/// A steady mixed load of puts, gets and deletes at default quorums, one operation at a time per
/// client at a fixed rate, every outcome recorded in a <see cref="History"/>. Paced rather than
/// flat out, so the histories of scenarios of different lengths are alike and the load leaves a
/// small shared machine room for the cluster's own work. Bounded in count and in time.
/// </summary>
public sealed class MixedLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly int[] _completed;
    private readonly Task[] _loops;

    /// <param name="opsPerSecond">Per client.</param>
    /// <param name="putShare">Share of puts; deletes take <paramref name="deleteShare"/>, gets the rest.</param>
    public MixedLoad(History history, IReadOnlyList<LoadClient> clients, int seed, double opsPerSecond = 40, double putShare = 0.5, double deleteShare = 0.1,
        int maxOpsPerClient = 5_000, TimeSpan? maxDuration = null)
    {
        ArgumentNullException.ThrowIfNull(clients);
        History = history;
        _completed = new int[clients.Count];
        var limit = maxDuration ?? TimeSpan.FromMinutes(2);
        _loops = [.. clients.Select((client, i) => Task.Run(() => RunAsync(client, i, new Random(seed + i), opsPerSecond, putShare, deleteShare, maxOpsPerClient, limit)))];
    }

    public History History { get; }

    public int Completed(int clientIndex) => Volatile.Read(ref _completed[clientIndex]);

    /// <summary>Waits until each of the given clients completed <paramref name="count"/> more operations than now.</summary>
    public async Task WaitForMoreAsync(int count, TimeSpan deadline, params int[] clientIndexes)
    {
        var targets = clientIndexes.ToDictionary(i => i, i => Completed(i) + count);
        await Eventually.WaitUntilAsync(() => targets.All(t => Completed(t.Key) >= t.Value), deadline,
            () => "load clients did not progress: " + string.Join(", ", targets.Select(t => $"client {t.Key} at {Completed(t.Key)} of {t.Value}")));
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(LoadClient client, int index, Random random, double opsPerSecond, double putShare, double deleteShare, int maxOps, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        using var pace = new PeriodicTimer(TimeSpan.FromSeconds(1 / opsPerSecond));
        for (var seq = 0; seq < maxOps && DateTime.UtcNow < deadline; seq++)
        {
            try
            {
                if (!await pace.WaitForNextTickAsync(_stop.Token))
                {
                    return;
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var key = client.Keys[random.Next(client.Keys.Count)];
            var roll = random.NextDouble();
            var kind = roll < putShare ? OperationKind.Put : roll < putShare + deleteShare ? OperationKind.Delete : OperationKind.Get;
            // Unique per write, so a value seen anywhere later names the write that made it.
            var value = kind == OperationKind.Put ? $"c{client.Id}-{seq.ToString(CultureInfo.InvariantCulture)}" : null;
            await ExecuteAsync(client, kind, key, value);
            Interlocked.Increment(ref _completed[index]);
        }
    }

    private async Task ExecuteAsync(LoadClient client, OperationKind kind, string key, string? value)
    {
        var node = kind == OperationKind.Get ? client.ReadNode : client.WriteNode;
        var uri = new Uri(node, "/v1/kv/" + Uri.EscapeDataString(key));
        using var request = kind switch
        {
            OperationKind.Put => new HttpRequestMessage(HttpMethod.Put, uri) { Content = new StringContent(value!) },
            OperationKind.Delete => new HttpRequestMessage(HttpMethod.Delete, uri),
            _ => new HttpRequestMessage(HttpMethod.Get, uri),
        };
        var start = DateTime.UtcNow;
        try
        {
            using var response = await client.Http.SendAsync(request);
            var end = DateTime.UtcNow;
            var status = (int)response.StatusCode;
            var detail = status.ToString(CultureInfo.InvariantCulture);
            if (kind == OperationKind.Get)
            {
                var outcome = response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NotFound ? Outcome.Ok : status is >= 400 and < 500 ? Outcome.Failed : Outcome.Unknown;
                var observed = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync() : null;
                History.Record(client.Id, kind, key, value, start, end, outcome, openEnded: false, observed, detail);
                return;
            }
            // 503: fewer than W replicas acknowledged in time, but those that did keep the write.
            var written = response.StatusCode == HttpStatusCode.NoContent ? Outcome.Ok : status is >= 400 and < 500 ? Outcome.Failed : Outcome.Unknown;
            History.Record(client.Id, kind, key, value, start, end, written, openEnded: false, null, detail);
        }
        catch (HttpRequestException e) when (e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            // Not connected: nothing was sent.
            History.Record(client.Id, kind, key, value, start, DateTime.UtcNow, Outcome.Failed, openEnded: false, null, "connect: " + e.Message);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            // No answer: the node may act on the request whenever it gets to it.
            History.Record(client.Id, kind, key, value, start, DateTime.UtcNow, Outcome.Unknown, openEnded: true, null, e.GetType().Name + ": " + e.Message);
        }
    }
}
