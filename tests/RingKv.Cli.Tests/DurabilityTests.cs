using System.Collections.Concurrent;
using System.Net;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>A node SIGKILLed in the middle of a write load, then restarted on its data, serves every write it acknowledged.</summary>
public sealed class DurabilityTests
{
    [Theory]
    [InlineData("always", 0, 400)]
    [InlineData("batch", 0, 400)]
    [InlineData("never", 0, 400)]
    // About 48 MiB before the kill: memtables (8 MiB) have been flushed several times, so the
    // write-ahead log files in use are reused ones (RocksDbEngine), and recovery must replay a
    // reused file's new records and none of its old ones.
    [InlineData("batch", 16 * 1024, 3000)]
    public async Task SigkilledNodeServesEveryAcknowledgedWriteAfterRestart(string fsync, int valueBytes, int killAfter)
    {
        using var dataDir = new TempDirectory("durability-" + fsync);
        string[] args = ["node", "--port", "0", "--engine", "rocksdb", "--fsync", fsync, "--data-dir", dataDir.Path];
        var acknowledged = new ConcurrentDictionary<string, string>();

        await using (var node = RingKvProcess.Start(args))
        {
            var url = await node.WaitForUrlAsync(Deadlines.NodeStart);
            using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(10) };
            using var enoughAcknowledged = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                // Bounded: at most 1,000 writes per writer, and none once the node is gone.
                for (var i = 0; i < 1000; i++)
                {
                    var key = $"durable/{w}/{i}";
                    var value = $"value-{w}-{i}-".PadRight(valueBytes, (char)('a' + ((w + i) % 26)));
                    try
                    {
                        using var response = await http.PutAsync("/v1/kv/" + key, new StringContent(value));
                        if (response.StatusCode == HttpStatusCode.NoContent && acknowledged.TryAdd(key, value) && acknowledged.Count >= killAfter)
                        {
                            await enoughAcknowledged.CancelAsync();
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        return; // the node was killed: this write's outcome is unknown, and it is not counted
                    }
                }
            })).ToArray();

            await Task.WhenAny(Task.Delay(Timeout.Infinite, enoughAcknowledged.Token).ContinueWith(_ => { }, TaskScheduler.Default), Task.WhenAll(writers));
            node.Kill();
            await node.WaitForExitAsync(Deadlines.NodeStop);
            await Task.WhenAll(writers);
        }
        Assert.True(acknowledged.Count >= killAfter, $"only {acknowledged.Count} writes were acknowledged before the kill");

        await using var restarted = RingKvProcess.Start(args);
        var restartedUrl = await restarted.WaitForUrlAsync(Deadlines.NodeStart);
        using var reader = new HttpClient { BaseAddress = restartedUrl };
        var lost = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(acknowledged, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (pair, ct) =>
        {
            using var response = await reader.GetAsync("/v1/kv/" + pair.Key, ct);
            if (response.StatusCode != HttpStatusCode.OK || await response.Content.ReadAsStringAsync(ct) != pair.Value)
            {
                lost.Add($"{pair.Key} ({response.StatusCode})");
            }
        });
        Assert.True(lost.IsEmpty, $"{lost.Count} of {acknowledged.Count} acknowledged writes lost with fsync={fsync}: {string.Join(", ", lost.Take(10))}");
    }
}
