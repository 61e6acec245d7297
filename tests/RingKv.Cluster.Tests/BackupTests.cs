using System.Globalization;
using System.Net;
using System.Text.Json;
using RingKv.Cli;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;
using Xunit.Abstractions;

namespace RingKv.Cluster.Tests;

/// <summary>
/// Online backup and restore (docs/BACKUP.md) over real processes: a backup taken under a write
/// load, resumed after losing ranges, verified; the source cluster gone; restored into a cluster
/// of another size and replication factor.
/// </summary>
public sealed class BackupTests(ITestOutputHelper output)
{
    private static readonly TimeSpan CommandDeadline = TimeSpan.FromSeconds(90);
    private static readonly ParallelOptions Clients = new() { MaxDegreeOfParallelism = 8 };

    [Fact]
    public async Task ABackupUnderLoadRestoresIntoASmallerClusterWithValuesAndExpiryAndKeepsNewerValues()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Phase(string what) => output.WriteLine($"{clock.Elapsed.TotalSeconds,6:0.0} s  {what}");
        using var directory = new TempDirectory("backup");
        var backup = directory.Combine("b1");
        var keys = Enumerable.Range(0, 300).Select(i => "before/" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var deleted = keys.Take(20).ToHashSet(StringComparer.Ordinal);
        // Acknowledged before the backup started: the value, and the expiry the key was given.
        var expected = new Dictionary<string, (string Value, string? ExpiresAt)>(StringComparer.Ordinal);
        Dictionary<string, string> duringLoad;

        await using (var source = await TestCluster.StartAsync(nodes: 3))
        {
            Phase("source cluster of 3 up");
            var nodes = source.Nodes;
            Assert.Equal(HttpStatusCode.NoContent, await source.PutAsync(nodes[0].Url, "expiring", "soon gone", "?ttl=1"));
            await Parallel.ForEachAsync(keys.Select((key, i) => (key, i)), Clients, async (item, _) =>
            {
                var (key, i) = item;
                Assert.Equal(HttpStatusCode.NoContent, await source.PutAsync(nodes[i % nodes.Count].Url, key, "value of " + key, i % 5 == 0 ? "?ttl=3600" : ""));
            });
            await Parallel.ForEachAsync(deleted, Clients, async (key, _) =>
            {
                using var delete = await source.Http.DeleteAsync(new Uri(nodes[0].Url, "/v1/kv/" + key));
                Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
            });
            await Parallel.ForEachAsync(keys.Where(k => !deleted.Contains(k)), Clients, async (key, _) =>
            {
                using var get = await source.Http.GetAsync(new Uri(nodes[1].Url, "/v1/kv/" + key));
                var read = (await get.Content.ReadAsStringAsync(), get.Headers.TryGetValues("X-RingKV-Expires-At", out var at) ? at.Single() : null);
                lock (expected)
                {
                    expected[key] = read;
                }
            });
            await Eventually.WaitUntilAsync(async () => (await source.GetAsync(nodes[0].Url, "expiring")).Status == HttpStatusCode.NotFound,
                TimeSpan.FromSeconds(10), () => "the key written with ?ttl=1 did not expire");

            Phase("keys written, deleted and read back");
            await using (var load = new WriteLoad(source, "during"))
            {
                await Eventually.WaitUntilAsync(() => load.Acknowledged.Count >= 20, TimeSpan.FromSeconds(20), () => $"the write load got {load.Acknowledged.Count} acknowledgements");
                var taken = await RingKvProcess.RunAsync(["backup", backup, "--url", source.CoordinatorUrl.ToString()], CommandDeadline);
                Phase("backup taken");
                output.WriteLine(taken.Description);
                Assert.True(taken.ExitCode == ExitCodes.Success, taken.Description);
                Assert.Contains("entries/s", taken.StandardError, StringComparison.Ordinal);
                Assert.Contains("time left", taken.StandardError, StringComparison.Ordinal);
                await load.StopAsync();
                duringLoad = new Dictionary<string, string>(load.Acknowledged, StringComparer.Ordinal);
            }
            foreach (var node in nodes)
            {
                Assert.Contains("action=backup-read", node.Process!.StandardError + node.Process.StandardOutput, StringComparison.Ordinal);
            }

            // Ranges lost from an interrupted run are read again by the next; the others are kept.
            var manifestPath = Path.Combine(backup, "manifest.json");
            var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(manifestPath)).RootElement;
            Assert.Equal(3, manifest.GetProperty("replicationFactor").GetInt32());
            Assert.All(manifest.GetProperty("spans").EnumerateArray(), s => Assert.Equal(3, s.GetProperty("minReplicasRead").GetInt32()));
            var text = await File.ReadAllTextAsync(manifestPath);
            var lost = manifest.GetProperty("spans").EnumerateArray().Take(8).Select(s => s.GetProperty("file").GetString()!).ToList();
            await File.WriteAllTextAsync(manifestPath, Interrupted(text, 8));
            foreach (var file in lost)
            {
                File.Delete(Path.Combine(backup, file));
            }
            var resumed = await RingKvProcess.RunAsync(["backup", backup, "--url", source.CoordinatorUrl.ToString()], CommandDeadline);
            Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Description);
            Assert.Contains("120 of 128 ranges already done", resumed.StandardError, StringComparison.Ordinal);
            Assert.All(lost, file => Assert.True(File.Exists(Path.Combine(backup, file)), file + " was not written again"));

            Phase("backup resumed");
        }

        // Restore verifies the backup before it sends anything, so its success also says the backup checks out.
        Phase("source cluster stopped");
        await using var target = await TestCluster.StartAsync(nodes: 2, replicas: 2);
        Phase("target cluster of 2 up");
        var newer = keys[25];
        Assert.Equal(HttpStatusCode.NoContent, await target.PutAsync(target.Nodes[0].Url, newer, "written after the backup"));

        var restored = await RingKvProcess.RunAsync(["restore", backup, "--url", target.CoordinatorUrl.ToString()], CommandDeadline);
        Phase("restored");
        output.WriteLine(restored.Description);
        Assert.True(restored.ExitCode == ExitCodes.Success, restored.Description);
        Assert.Contains(target.Nodes, n => (n.Process!.StandardError + n.Process.StandardOutput).Contains("action=restore", StringComparison.Ordinal));

        await Parallel.ForEachAsync(expected, Clients, async (pair, _) =>
        {
            var (key, (value, expiresAt)) = pair;
            var through = target.Nodes[Math.Abs(key.GetHashCode(StringComparison.Ordinal)) % target.Nodes.Count];
            using var get = await target.Http.GetAsync(new Uri(through.Url, "/v1/kv/" + key));
            var body = await get.Content.ReadAsStringAsync();
            if (key == newer)
            {
                Assert.Equal("written after the backup", body);
                return;
            }
            Assert.True(get.StatusCode == HttpStatusCode.OK && body == value, $"{key} through {through}: {get.StatusCode} {body}, expected {value}");
            Assert.Equal(expiresAt, get.Headers.TryGetValues("X-RingKV-Expires-At", out var at) ? at.Single() : null);
        });
        foreach (var key in deleted.Append("expiring"))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await target.GetAsync(target.Nodes[1].Url, key)).Status);
        }
        // Written during the backup, each key once: in the backup with its value, or not at all.
        foreach (var (key, value) in duringLoad)
        {
            var (status, body) = await target.GetAsync(target.Nodes[0].Url, key);
            Assert.True(status == HttpStatusCode.NotFound || body == value, $"{key}: {status} {body}, written as {value}");
        }

        Phase("restored keys checked");
        // A damaged file is found by verify, and restore refuses the backup before sending anything.
        var victim = Directory.EnumerateFiles(Path.Combine(backup, "ranges")).First(f => new FileInfo(f).Length > 0);
        var bytes = await File.ReadAllBytesAsync(victim);
        bytes[bytes.Length / 3] ^= 0x01;
        await File.WriteAllBytesAsync(victim, bytes);
        var check = await RingKvProcess.RunAsync(["backup", "verify", backup], CommandDeadline);
        Assert.Equal(ExitCodes.Failure, check.ExitCode);
        Assert.Contains(Path.GetFileName(victim), check.StandardError, StringComparison.Ordinal);
        var refused = await RingKvProcess.RunAsync(["restore", backup, "--url", target.CoordinatorUrl.ToString()], CommandDeadline);
        Assert.Equal(ExitCodes.Failure, refused.ExitCode);
        Assert.Contains("nothing was restored", refused.StandardError, StringComparison.Ordinal);
        Phase("damage found");
    }

    /// <summary>The manifest as an interrupted run leaves it: not complete, its first <paramref name="lost"/> spans not finished.</summary>
    private static string Interrupted(string manifestJson, int lost)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(manifestJson)!;
        node["complete"] = false;
        var spans = node["spans"]!.AsArray();
        for (var i = 0; i < lost; i++)
        {
            spans.RemoveAt(0);
        }
        return node.ToJsonString();
    }
}
