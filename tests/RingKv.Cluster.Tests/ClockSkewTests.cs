using System.Globalization;
using System.Net;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;
using Xunit.Abstractions;

namespace RingKv.Cluster.Tests;

/// <summary>Versions under skewed node clocks (each node started with its own --clock-offset).</summary>
public sealed class ClockSkewTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SingleClientNeverReadsAnOlderValueWithClocksThirtySecondsApartEachWay()
    {
        // n1 30 s behind, n3 30 s ahead: 60 s apart, so the clock bound must be above that. No
        // anti-entropy: its messages would carry clocks between nodes and hide the problem.
        var offsets = new Dictionary<string, int> { ["n1"] = -30, ["n2"] = 0, ["n3"] = 30, ["n4"] = -15 };
        await using var cluster = await TestCluster.StartWithArgsAsync(4, "memory", [], id =>
            ["--clock-offset", offsets[id].ToString(CultureInfo.InvariantCulture), "--max-clock-skew", "90", "--anti-entropy-pause", "3600"]);
        var behind = cluster.Node("n1");
        // A key n1 does not replicate: nothing but its own writes' answers tells n1 of newer versions,
        // so each write it coordinates is stamped from its own clock, 60 s behind n3's.
        var key = await FindKeyAsync(cluster, replicas => !replicas.Contains(behind.Id));
        var replicas = await cluster.LocateAsync(key);
        output.WriteLine($"key {key} on {string.Join(", ", replicas)}");

        for (var i = 1; i <= 40; i++)
        {
            var writer = cluster.Nodes[i % cluster.Nodes.Count];
            // Reads go through the replicas only, so n1 learns nothing from them either.
            var reader = cluster.Node(replicas[i % replicas.Count]);
            var value = "v" + i.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(writer.Url, key, value));
            var (status, body) = await cluster.GetAsync(reader.Url, key);
            Assert.True(status == HttpStatusCode.OK && body == value,
                $"after writing {value} through {writer.Id} (offset {offsets[writer.Id]} s), {reader.Id} read {(int)status} {body}");
        }
        var restamped = await cluster.MetricAsync(behind, "ringkv_replica_responses_total", "outcome=\"restamped\"");
        output.WriteLine($"{behind.Id} re-stamped {restamped} writes above a newer version a replica held");
        Assert.True(restamped > 0, $"{behind.Id}'s writes were never stamped below the previous one: the test did not skew anything");
    }

    [Fact]
    public async Task VersionsFarAheadOfTheReceiversClockAreRefusedCountedAndDoNotWinReads()
    {
        // n3's clock is 120 s ahead; the others refuse anything more than 60 s ahead of theirs (the default).
        await using var cluster = await TestCluster.StartWithArgsAsync(3, "memory", [], id =>
            id == "n3" ? ["--clock-offset", "120"] : []);
        var (n1, n2, ahead) = (cluster.Node("n1"), cluster.Node("n2"), cluster.Node("n3"));
        const string key = "skew/far-future";

        // Only n3's own copy takes the far-future version: no quorum, so the client is told.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await cluster.PutAsync(ahead.Url, key, "from-the-future"));
        Assert.Null(await cluster.LocalAsync(n1, key));
        Assert.Null(await cluster.LocalAsync(n2, key));

        // A later write through a node with a sane clock is acknowledged and read back, although
        // n3 still holds a version two minutes ahead of it.
        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(n1.Url, key, "now"));
        foreach (var reader in new[] { n1, n2 })
        {
            for (var i = 0; i < 5; i++)
            {
                var (status, body) = await cluster.GetAsync(reader.Url, key);
                Assert.True(status == HttpStatusCode.OK && body == "now", $"{reader.Id} read {(int)status} {body}");
            }
        }
        long refused = 0;
        foreach (var node in new[] { n1, n2 })
        {
            refused += await cluster.MetricAsync(node, "ringkv_clock_refused_entries_total", "source=\"write\"");
        }
        Assert.True(refused >= 2, $"n1 and n2 counted {refused} refused entries");
        Assert.True(await cluster.MetricAsync(n1, "ringkv_clock_refused_total", "") > 0, "n1 counted no refused timestamp");
    }

    private static async Task<string> FindKeyAsync(TestCluster cluster, Func<List<string>, bool> fits)
    {
        for (var i = 0; i < 1000; i++)
        {
            var key = "skew/" + i.ToString(CultureInfo.InvariantCulture);
            if (fits(await cluster.LocateAsync(key)))
            {
                return key;
            }
        }
        throw new InvalidOperationException("No key among 1,000 fits: the ring is not what the test expects.");
    }
}
