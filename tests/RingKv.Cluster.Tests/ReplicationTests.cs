using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;

namespace RingKv.Cluster.Tests;

/// <summary>Every key on exactly its RF preference-list nodes; quorums that keep working with a node down.</summary>
public sealed class ReplicationTests
{
    [Fact]
    public async Task EveryKeyLivesOnExactlyItsThreePreferenceListNodesAndNoOther()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 5);
        var random = new Random(42);
        var keys = Enumerable.Range(0, 1000).Select(i => $"placement/{i}").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (key, _) =>
        {
            var node = cluster.Nodes[random.Next(cluster.Nodes.Count)];
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(node.Url, key, "value-" + key));
        });

        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (key, _) =>
        {
            var expected = await cluster.LocateAsync(key);
            Assert.Equal(3, expected.Distinct().Count());
            // W=2 acknowledges before the third copy lands: wait for it, with a deadline.
            var holders = new List<string>();
            await Eventually.WaitUntilAsync(async () =>
            {
                holders.Clear();
                foreach (var node in cluster.Nodes)
                {
                    if (await cluster.LocalAsync(node, key) is not null)
                    {
                        holders.Add(node.Id);
                    }
                }
                return holders.Order().SequenceEqual(expected.Order());
            }, TimeSpan.FromSeconds(10), () => $"{key}: expected on [{string.Join(",", expected)}], found on [{string.Join(",", holders)}]");
        });
    }

    [Fact]
    public async Task WithOneOfFiveNodesKilledEveryKeyCanStillBeReadAndWrittenAtQuorum()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 5);
        var keys = Enumerable.Range(0, 200).Select(i => $"survive/{i}").ToList();
        foreach (var key in keys)
        {
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, key, "before"));
        }
        var victim = cluster.Nodes[2];
        await cluster.KillAsync(victim);

        var survivors = cluster.Nodes.Where(n => n != victim).ToList();
        for (var i = 0; i < keys.Count; i++)
        {
            var through = survivors[i % survivors.Count];
            var (status, body) = await cluster.GetAsync(through.Url, keys[i]);
            Assert.True(status == HttpStatusCode.OK && body == "before", $"{keys[i]} through {through}: {status} {body}");
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(through.Url, keys[i], "after"));
            Assert.Equal("after", (await cluster.GetAsync(survivors[(i + 1) % survivors.Count].Url, keys[i])).Body);
        }
    }

    [Fact]
    public async Task WriteWithoutAQuorumIsRefusedWith503AndTheCountOfAcknowledgements()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        await cluster.KillAsync(cluster.Nodes[1]);
        await cluster.KillAsync(cluster.Nodes[2]);
        using var response = await cluster.Http.PutAsync(new Uri(cluster.Nodes[0].Url, "/v1/kv/lonely"), new StringContent("v"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("insufficient-replicas", problem.GetProperty("type").GetString());
        Assert.Equal(1, problem.GetProperty("acknowledged").GetInt32());
        Assert.Contains("may still have been applied", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        // One replica is enough when the client asks for it.
        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, "lonely", "v", "?w=1"));
        Assert.Equal(HttpStatusCode.OK, (await cluster.GetAsync(cluster.Nodes[0].Url, "lonely", "?consistency=one")).Status);
    }

    [Fact]
    public async Task StaleReplicaIsRepairedByARead()
    {
        // Anti-entropy would repair the lagging replica on its own; keep it out of the way here.
        await using var cluster = await TestCluster.StartWithNodeArgsAsync(3, "rocksdb", "--anti-entropy-pause", "3600");
        var key = "repair-me";
        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, key, "v1", "?w=3"));
        // Take one replica away, write v2 to the other two, bring it back: it still has v1.
        var lagging = cluster.Nodes[2];
        await cluster.KillAsync(lagging);
        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, key, "v2"));
        await cluster.StartNodeAsync(lagging);
        // Every node must see it up again before an r=3 read can ask it.
        await cluster.WaitUntilConvergedAsync();
        Assert.Equal("v1", await cluster.LocalValueAsync(lagging, key));

        Assert.Equal("v2", (await cluster.GetAsync(cluster.Nodes[0].Url, key, "?r=3")).Body);
        await Eventually.WaitUntilAsync(async () =>
        {
            return await cluster.LocalValueAsync(lagging, key) == "v2";
        }, TimeSpan.FromSeconds(10), () => $"{lagging.Id} was not repaired to v2");
    }

    [Fact]
    public async Task AQuorumReadAsksRReplicasAndTheOthersOnlyWhenOneDoesNotAnswer()
    {
        // No anti-entropy: its messages would not count as reads, but keep the replicas quiet anyway.
        await using var cluster = await TestCluster.StartWithNodeArgsAsync(3, "memory", "--anti-entropy-pause", "3600");
        const string key = "targeted-read";
        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, key, "v1", "?w=3"));
        var order = await cluster.LocateAsync(key);
        var reader = cluster.Node(order[0]);
        // The reader answers from its own copy and asks one other replica: the first after it in the
        // key's preference list. The third is asked only when that one fails or is slow.
        var (asked, spare) = (cluster.Node(order[1]), cluster.Node(order[2]));
        // Metrics scrapes are cached for a moment: every count below is waited for, not read once.
        async Task<long> ReceivedAsync(TestNode node, string method) =>
            await cluster.MetricAsync(node, "ringkv_internode_messages_total", $"direction=\"received\",method=\"{method}\"");
        async Task<long> ReadsAsync(TestNode node) => await ReceivedAsync(node, "read");

        // Reads the reader sent to the spare because the first replica was slow (speculative retries).
        async Task<long> SpeculatedAsync() => await cluster.MetricAsync(reader, "ringkv_replica_responses_total", "outcome=\"speculative\"");

        var (askedBefore, spareBefore, spareWrites) = (await ReadsAsync(asked), await ReadsAsync(spare), await ReceivedAsync(spare, "write"));
        var speculatedBefore = await SpeculatedAsync();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("v1", (await cluster.GetAsync(reader.Url, key)).Body);
        }
        await Eventually.WaitUntilAsync(async () => await ReadsAsync(asked) - askedBefore >= 20, TimeSpan.FromSeconds(10),
            () => $"{asked.Id} did not receive the 20 reads");
        // A write after the reads reaches the spare too: once its scrape shows that write, it is
        // fresh enough to show the reads. The spare may only have had the reads the reader sent it
        // as speculative retries (none on a quiet machine; a loaded one can make the first replica
        // slower than the speculative delay now and then).
        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(reader.Url, key, "v1", "?w=3"));
        await Eventually.WaitUntilAsync(async () => await ReceivedAsync(spare, "write") > spareWrites, TimeSpan.FromSeconds(10),
            () => $"{spare.Id}'s metrics never showed the write");
        // A speculative read can still be on its way to the spare when its read has been answered.
        long spareReads = 0;
        await Eventually.WaitUntilAsync(async () =>
        {
            spareReads = await ReadsAsync(spare) - spareBefore;
            return await SpeculatedAsync() - speculatedBefore == spareReads;
        }, TimeSpan.FromSeconds(10),
            () => $"{spare.Id} received {spareReads} of the 20 reads, but {reader.Id} did not speculate that often: a read asked a replica it did not need");
        Assert.True(spareReads < 20, $"{spare.Id} received all 20 reads");
        Assert.Equal(20, await ReadsAsync(asked) - askedBefore);
        spareBefore += spareReads;

        // ?r=3 has no replica in reserve, so it waits the whole request timeout for all three, not
        // the speculative delay: a replica stopped for 300 ms makes it slower, not refused.
        cluster.Pause(spare);
        var readingAll = cluster.GetAsync(reader.Url, key, "?r=3");
        await Task.Delay(TimeSpan.FromMilliseconds(300)); // how long the replica stays stopped
        cluster.Resume(spare);
        var (allStatus, allBody) = await readingAll;
        Assert.True(allStatus == HttpStatusCode.OK && allBody == "v1", $"?r=3 with {spare.Id} stopped for 300 ms: {(int)allStatus} {allBody}");
        await Eventually.WaitUntilAsync(async () => await ReadsAsync(spare) - spareBefore == 1, TimeSpan.FromSeconds(10),
            () => $"{spare.Id}'s metrics never showed the ?r=3 read");
        spareBefore++;

        // The replica it asks stops answering (SIGSTOP): reads still succeed, from the spare.
        cluster.Pause(asked);
        for (var i = 0; i < 5; i++)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var (status, body) = await cluster.GetAsync(reader.Url, key);
            Assert.True(status == HttpStatusCode.OK && body == "v1", $"read {i} with {asked.Id} paused: {(int)status} {body}");
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            Assert.True(took < TimeSpan.FromSeconds(2), $"read {i} with {asked.Id} paused took {took.TotalMilliseconds:F0} ms");
        }
        // Each of those reads needed a second answer, and only the spare could give one.
        await Eventually.WaitUntilAsync(async () => await ReadsAsync(spare) > spareBefore, TimeSpan.FromSeconds(10),
            () => $"{spare.Id} was not asked while {asked.Id} was paused");
        cluster.Resume(asked);
    }

    [Fact]
    public async Task ListingAcrossTheClusterReturnsEveryLiveKeyOnce()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 4);
        var keys = Enumerable.Range(0, 150).Select(i => $"listing/{i:D3}").ToList();
        foreach (var key in keys)
        {
            await cluster.PutAsync(cluster.Nodes[0].Url, key, "v");
        }
        foreach (var key in keys.Take(10))
        {
            using var deleted = await cluster.Http.DeleteAsync(new Uri(cluster.Nodes[1].Url, "/v1/kv/" + Uri.EscapeDataString(key)));
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }
        await cluster.PutAsync(cluster.Nodes[0].Url, "other/1", "v");

        var seen = new List<string>();
        string? cursor = null;
        for (var page = 0; page < 100; page++)
        {
            var url = "/v1/kv?prefix=listing/&limit=17" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));
            var json = await cluster.Http.GetFromJsonAsync<JsonElement>(new Uri(cluster.Nodes[page % 4].Url, url));
            seen.AddRange(json.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!));
            cursor = json.GetProperty("cursor").GetString();
            if (cursor is null)
            {
                break;
            }
        }
        Assert.Null(cursor);
        Assert.Equal(keys.Skip(10).Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
    }
}
