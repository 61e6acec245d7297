using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace RingKv.Cluster.Tests.Storage;

/// <summary>
/// A node whose data disk fills up while writes run: a real, small tmpfs under its data directory,
/// filled by a file the test writes into it. No acknowledged write may be lost; the full node
/// refuses the writes it coordinates (507, RESP NOSPACE), says so in the cluster's health and
/// <c>ringkv status</c>, keeps serving reads, and takes writes again once the file is deleted,
/// without a restart.
/// </summary>
public sealed class DiskFullTests(ITestOutputHelper output)
{
    private const int TmpfsMiB = 64;
    private const string Reserve = "16M";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <remarks>
    /// Two nodes have their data on a tmpfs: n3 keeps a reserve (<c>--min-free-disk 16M</c>), so its
    /// free-space check refuses writes before RocksDB runs out; n2 keeps none, so RocksDB itself
    /// meets ENOSPC, fails the write, and is reopened from its log once space is back. They are
    /// filled one after the other, so the key's two other replicas can always take a write.
    /// </remarks>
    [TmpfsFact]
    public async Task AFullDiskRefusesWritesLosesNoAcknowledgedOneAndTakesWritesAgainOnceFreed()
    {
        var test = Stopwatch.StartNew();
        await using var cluster = await TestCluster.StartWithProcessOptionsAsync(3, "rocksdb",
            id => id switch { "n3" => ["--min-free-disk", Reserve], "n2" => ["--min-free-disk", "0"], _ => [] },
            node => node.Id is "n2" or "n3" ? new RingKvProcessOptions { PrivateTmpfs = new PrivateTmpfs(node.DataDirectory, TmpfsMiB) } : new RingKvProcessOptions());
        output.WriteLine($"cluster up in {test.ElapsedMilliseconds} ms");
        var load = new Load(cluster);
        var running = Task.Run(load.RunAsync);
        try
        {
            await FillAndFreeAsync(cluster, load, cluster.Node("n3"), showStatus: true);
            // RocksDB preallocates its log, so it meets ENOSPC only when it needs a new file (the
            // next log, or a flushed table): larger values get it there in seconds.
            load.ValueBytes = 16 * 1024;
            await FillAndFreeAsync(cluster, load, cluster.Node("n2"), showStatus: false);
            Assert.True(await cluster.MetricAsync(cluster.Node("n2"), "ringkv_storage_reopens_total", "") >= 1, "n2 ran out of space in RocksDB but its engine was never reopened");
        }
        finally
        {
            load.Stop();
            await running;
        }
        output.WriteLine($"{load.Describe()}; load stopped at {test.ElapsedMilliseconds} ms");

        // Every acknowledged write is there, read at quorum through every node in turn.
        var lost = new ConcurrentBag<string>();
        var nodes = cluster.Nodes.ToList();
        await Parallel.ForEachAsync(load.Acknowledged.Select((pair, i) => (pair.Key, pair.Value, Node: nodes[i % nodes.Count])),
            new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (write, _) =>
            {
                var (code, body) = await cluster.GetAsync(write.Node.Url, write.Key);
                if (code != HttpStatusCode.OK || body != write.Value)
                {
                    lost.Add($"{write.Key}: {code} '{body}' via {write.Node.Id}");
                }
            });
        output.WriteLine($"read back at {test.ElapsedMilliseconds} ms");
        Assert.True(lost.IsEmpty, $"{lost.Count} of {load.Acknowledged.Count} acknowledged writes lost: {string.Join("; ", lost.Take(10))}");
        Assert.True(load.Unexpected == 0, load.Describe());
    }

    /// <summary>Fills the node's disk while the load runs, checks that it refuses writes and says so, then frees it and waits for it to take writes again.</summary>
    private async Task FillAndFreeAsync(TestCluster cluster, Load load, TestNode full, bool showStatus)
    {
        // The tmpfs as the node sees it, from outside its mount namespace.
        var filler = $"/proc/{full.Process!.Id}/root{full.DataDirectory}/filler";
        await Eventually.WaitUntilAsync(() => Task.FromResult(load.AcknowledgedBy(full.Id) >= 50), Deadline, () => $"{full.Id} acknowledged {load.AcknowledgedBy(full.Id)} writes");

        // Fill the disk to the last byte while the writes go on.
        var filled = Stopwatch.StartNew();
        var fillerBytes = await FillAsync(filler);
        var refusedBefore = load.InsufficientStorageFrom(full.Id);
        await Eventually.WaitUntilAsync(() => Task.FromResult(load.InsufficientStorageFrom(full.Id) >= refusedBefore + 20), Deadline,
            () => $"{full.Id} answered 507 to {load.InsufficientStorageFrom(full.Id)} writes; {load.Describe()}; {full.Process!.Describe()}");
        output.WriteLine($"{full.Id}: filler {fillerBytes / (1024 * 1024)} MiB; 20 writes refused with 507 within {filled.ElapsedMilliseconds} ms of the fill starting");

        var status = await ClusterNodeAsync(cluster, full.Id, n => n.GetProperty("storage").GetString() == "full");
        Assert.True(status.GetProperty("freeDiskBytes").GetInt64() < 16L * 1024 * 1024, status.ToString());
        Assert.Equal(0, await cluster.MetricAsync(full, "ringkv_storage_writable", ""));
        if (showStatus)
        {
            var cli = await RingKvProcess.RunAsync(["status", "--url", cluster.CoordinatorUrl.ToString()], Deadline);
            Assert.Contains("DISK FULL", cli.StandardOutput, StringComparison.Ordinal);
            // Through the gateway, a write whose first replica is the full node goes to the next one.
            for (var i = 0; i < 30; i++)
            {
                var key = $"disk-full/gateway/{i}";
                Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.CoordinatorUrl, key, "g" + i));
                load.Acknowledged[key] = "g" + i;
            }
        }
        await AssertRespRefusesWritesAsync(status.GetProperty("respUrl").GetString()!);
        // Reads go on while the disk is full.
        var (someKey, someValue) = load.Acknowledged.First();
        Assert.Equal((HttpStatusCode.OK, someValue), await cluster.GetAsync(full.Url, someKey));

        // Free the space: the node takes writes again by itself.
        var acceptedBefore = load.AcknowledgedBy(full.Id);
        var freed = Stopwatch.StartNew();
        File.Delete(filler);
        await Eventually.WaitUntilAsync(() => Task.FromResult(load.AcknowledgedBy(full.Id) > acceptedBefore), Deadline,
            () => $"{full.Id} acknowledged no write since the filler was deleted; {load.Describe()}; {full.Process!.Describe()}");
        var backAfter = freed.Elapsed;
        await ClusterNodeAsync(cluster, full.Id, n => n.GetProperty("storage").GetString() == "ok");
        Assert.Equal(1, await cluster.MetricAsync(full, "ringkv_storage_writable", ""));
        output.WriteLine($"{full.Id}: took writes again {backAfter.TotalMilliseconds:0} ms after the filler was deleted; engine reopens: {await cluster.MetricAsync(full, "ringkv_storage_reopens_total", "")}; {load.Describe()}");
    }

    /// <summary>Writes 1 MiB chunks until the file system has no byte left; returns how much it took.</summary>
    private static async Task<long> FillAsync(string path)
    {
        var chunk = new byte[1024 * 1024];
        Random.Shared.NextBytes(chunk);
        long written = 0;
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.None);
        try
        {
            while (true)
            {
                await file.WriteAsync(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: full. What fits of a last partial chunk is written by the smaller writes below.
        }
        for (var size = chunk.Length / 2; size >= 4096; size /= 2)
        {
            try
            {
                await file.WriteAsync(chunk.AsMemory(0, size));
                written += size;
            }
            catch (IOException)
            {
            }
        }
        return written;
    }

    private static async Task AssertRespRefusesWritesAsync(string respUrl)
    {
        var url = new Uri(respUrl);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions { EndPoints = { { url.Host, url.Port } }, AbortOnConnectFail = true, ConnectTimeout = 5000 });
        var refused = await Assert.ThrowsAsync<RedisServerException>(() => redis.GetDatabase().StringSetAsync("disk-full/resp", "v"));
        Assert.StartsWith("NOSPACE", refused.Message, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> ClusterNodeAsync(TestCluster cluster, string id, Func<JsonElement, bool> condition)
    {
        JsonElement seen = default;
        await Eventually.WaitUntilAsync(async () =>
        {
            var status = await cluster.ClusterAsync(cluster.CoordinatorUrl);
            seen = status.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("id").GetString() == id);
            return seen.TryGetProperty("storage", out _) && condition(seen);
        }, Deadline, () => $"{id} in GET /v1/cluster: {seen}");
        return seen;
    }

    /// <summary>
    /// Writers through every node in turn, each key written once: every 2xx recorded
    /// as acknowledged, every 507 counted per node, anything but 2xx, 503 and 507 counted as unexpected.
    /// </summary>
    private sealed class Load(TestCluster cluster)
    {
        private const int Writers = 6;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentDictionary<string, int> _acknowledgedBy = new();
        private readonly ConcurrentDictionary<string, int> _insufficientStorage = new();
        private readonly ConcurrentDictionary<string, int> _other = new();
        private int _next;
        private int _unexpected;

        public ConcurrentDictionary<string, string> Acknowledged { get; } = new(StringComparer.Ordinal);

        public int Unexpected => Volatile.Read(ref _unexpected);

        /// <summary>Size of the values written from now on.</summary>
        public int ValueBytes { get; set; } = 1000;

        public int AcknowledgedBy(string node) => _acknowledgedBy.GetValueOrDefault(node);

        public int InsufficientStorageFrom(string node) => _insufficientStorage.GetValueOrDefault(node);

        public void Stop() => _stop.Cancel();

        public string Describe() =>
            $"acknowledged {Acknowledged.Count} ({string.Join(", ", _acknowledgedBy.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}); " +
            $"507 {string.Join(", ", _insufficientStorage.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}; " +
            $"other {string.Join(", ", _other.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value}"))}; unexpected {Unexpected}";

        public async Task RunAsync()
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            // Bounded: stopped by the test, or after a minute at the latest.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            bound.CancelAfter(TimeSpan.FromMinutes(1));
            await Task.WhenAll(Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
            {
                while (!bound.IsCancellationRequested)
                {
                    var i = Interlocked.Increment(ref _next);
                    var node = cluster.Nodes[i % cluster.Nodes.Count];
                    var key = $"disk-full/{i}";
                    var written = new string('x', ValueBytes) + i.ToString(CultureInfo.InvariantCulture);
                    try
                    {
                        using var response = await http.PutAsync(new Uri(node.Url, "/v1/kv/" + key), new StringContent(written), CancellationToken.None);
                        if (response.IsSuccessStatusCode)
                        {
                            Acknowledged[key] = written;
                            _acknowledgedBy.AddOrUpdate(node.Id, 1, (_, n) => n + 1);
                        }
                        else if (response.StatusCode == HttpStatusCode.InsufficientStorage)
                        {
                            _insufficientStorage.AddOrUpdate(node.Id, 1, (_, n) => n + 1);
                        }
                        else
                        {
                            var kind = $"{node.Id} {(int)response.StatusCode}";
                            _other.AddOrUpdate(kind, 1, (_, n) => n + 1);
                            if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                            {
                                Interlocked.Increment(ref _unexpected);
                            }
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        // No answer: not acknowledged, nothing promised.
                        _other.AddOrUpdate(node.Id + " no answer", 1, (_, n) => n + 1);
                    }
                }
            })));
        }
    }
}
