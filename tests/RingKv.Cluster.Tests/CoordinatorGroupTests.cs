using System.Diagnostics;
using System.Net;
using System.Text.Json;
using RingKv.Testing;

namespace RingKv.Cluster.Tests;

/// <summary>
/// The coordinator group `up` runs by default (3 members on Raft, one shared port): any member,
/// the leader first, can die or stall and the cluster goes on serving, deciding and changing, and
/// a single coordinator's data directory is taken over in place.
/// </summary>
public sealed class CoordinatorGroupTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task KillingTheLeaderUnderWritesElectsANewOneLosesNoAcknowledgedWriteAndTheNextNodeAddWorks()
    {
        using var home = new TempDirectory("group-leader");
        // --no-supervise is about nodes: the members are restarted all the same.
        await using var up = RingKvProcess.Start("up", "--nodes", "3", "--port", "0", "--resp-port", "0", "--data-dir", home.Combine("data"), "--no-supervise");
        var url = await up.WaitForUrlAsync(Deadline);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var before = await ClusterAsync(http, url);
        Assert.Equal(3, before.GetProperty("coordinators").GetArrayLength());
        var leader = before.GetProperty("leader").GetString()!;

        // A writer through the printed URL for the whole failover; only acknowledged writes count.
        using var stopWriting = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var acknowledged = new List<string>();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 3000 && !stopWriting.IsCancellationRequested; i++)
            {
                try
                {
                    using var put = await http.PutAsync(new Uri(url, $"/v1/kv/failover/{i}"), new StringContent("v" + i), stopWriting.Token);
                    if (put.StatusCode == HttpStatusCode.NoContent)
                    {
                        lock (acknowledged)
                        {
                            acknowledged.Add($"failover/{i}");
                        }
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    // A connection to the killed member: not acknowledged, retried as the next key.
                }
            }
        });
        await Eventually.WaitUntilAsync(() => { lock (acknowledged) { return acknowledged.Count >= 50; } }, Deadline, () => "no writes acknowledged before the kill");

        var killed = Stopwatch.StartNew();
        Signals.Send(MemberPid(home.Path, leader), Signals.SigKill);
        string? next = null;
        await Eventually.WaitUntilAsync(async () =>
        {
            next = (await TryClusterAsync(http, url))?.GetProperty("leader") is { ValueKind: JsonValueKind.String } l ? l.GetString() : null;
            return next is not null && next != leader;
        }, TimeSpan.FromSeconds(20), () => $"no new leader after killing {leader}. {up.Describe()}");
        var failover = killed.Elapsed;
        await stopWriting.CancelAsync();
        await writer;

        // The next change is accepted by the new leader, through the same URL.
        using (var add = await http.PostAsync(new Uri(url, "/v1/cluster/nodes"), null))
        {
            Assert.True(add.StatusCode == HttpStatusCode.Created, $"{add.StatusCode}: {await add.Content.ReadAsStringAsync()}");
        }
        await Eventually.WaitUntilAsync(async () => (await TryClusterAsync(http, url))?.GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("state").GetString() == "up") == 4,
            Deadline, () => $"the fourth node did not join. {up.Describe()}");
        List<string> written;
        lock (acknowledged)
        {
            written = [.. acknowledged];
        }
        foreach (var key in written)
        {
            Assert.Equal("v" + key["failover/".Length..], await http.GetStringAsync(new Uri(url, "/v1/kv/" + key)));
        }
        var status = await RingKvProcess.RunAsync(["status", "--url", url.ToString()], Deadline);
        Assert.Contains($"{next} (leader)", status.StandardOutput, StringComparison.Ordinal);
        // The killed member is back, started again by `up`, and follows.
        await Eventually.WaitUntilAsync(async () => (await TryClusterAsync(http, url))?.GetProperty("coordinators").EnumerateArray()
            .Any(c => c.GetProperty("id").GetString() == leader && c.GetProperty("role").GetString() == "follower") == true,
            Deadline, () => $"{leader} did not come back as a follower. {up.Describe()}");
        Assert.True(failover < TimeSpan.FromSeconds(15), $"failover took {failover}");
    }

    [Fact]
    public async Task ASingleCoordinatorsDataIsTakenOverAStalledLeaderActsOnNothingAndAGroupKilledWholeComesBackWithItsMap()
    {
        using var home = new TempDirectory("group-upgrade");
        var data = home.Combine("data");
        string[] keys = [.. Enumerable.Range(0, 40).Select(i => $"upgrade/{i}")];
        long singleEpoch;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await using (var single = RingKvProcess.Start("up", "--coordinators", "1", "--nodes", "3", "--port", "0", "--resp-port", "0", "--data-dir", data))
        {
            var singleUrl = await single.WaitForUrlAsync(Deadline);
            foreach (var key in keys)
            {
                using var put = await http.PutAsync(new Uri(singleUrl, "/v1/kv/" + key), new StringContent(key));
                Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
            }
            singleEpoch = (await ClusterAsync(http, singleUrl)).GetProperty("epoch").GetInt64();
            single.Terminate();
            Assert.Equal(0, await single.WaitForExitAsync(Deadline));
        }

        await using var up = RingKvProcess.Start("up", "--nodes", "3", "--port", "0", "--resp-port", "0", "--data-dir", data, "--eviction-grace", "4", "--suspect-after", "2");
        var url = await up.WaitForUrlAsync(Deadline);
        var cluster = await ClusterAsync(http, url);
        Assert.Equal(["n1", "n2", "n3"], cluster.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()).Order());
        Assert.True(cluster.GetProperty("epoch").GetInt64() >= singleEpoch);
        foreach (var key in keys)
        {
            Assert.Equal(key, await http.GetStringAsync(new Uri(url, "/v1/kv/" + key)));
        }

        // The leader stalls past the election timeout (longer than the eviction grace, so a leader
        // that still acted on its old term would evict every node it did not hear from).
        var stalled = cluster.GetProperty("leader").GetString()!;
        var stalledPid = MemberPid(home.Path, stalled);
        Signals.Send(stalledPid, Signals.SigStop);
        try
        {
            await Eventually.WaitUntilAsync(async () => (await TryClusterAsync(http, url))?.GetProperty("leader") is { ValueKind: JsonValueKind.String } l && l.GetString() != stalled,
                Deadline, () => $"no leader elected while {stalled} was stopped. {up.Describe()}");
            await Task.Delay(TimeSpan.FromSeconds(6));
        }
        finally
        {
            Signals.Send(stalledPid, Signals.SigCont);
        }
        // Back, it follows: one leader, one map, and nobody was evicted by anyone.
        JsonElement? agreed = null;
        await Eventually.WaitUntilAsync(async () =>
        {
            var views = await Task.WhenAll(MemberUrls(home.Path).Select(u => TryClusterAsync(http, u)));
            agreed = views[0];
            return views.All(v => v is { } view && view.GetProperty("leader").ValueKind == JsonValueKind.String &&
                view.GetProperty("leader").GetString() == views[0]!.Value.GetProperty("leader").GetString() &&
                view.GetProperty("epoch").GetInt64() == views[0]!.Value.GetProperty("epoch").GetInt64()) &&
                views[0]!.Value.GetProperty("leader").GetString() != stalled;
        }, Deadline, () => $"the members do not agree after {stalled} resumed. {up.Describe()}");
        Assert.Equal(3, agreed!.Value.GetProperty("nodes").GetArrayLength());
        Assert.DoesNotContain(agreed.Value.GetProperty("transitions").EnumerateArray(), t => t.GetProperty("reason").GetString()!.StartsWith("evicted", StringComparison.Ordinal));

        // Every member killed at once: the nodes serve on; the group comes back with the same map.
        var epoch = agreed.Value.GetProperty("epoch").GetInt64();
        var nodeUrl = new Uri(agreed.Value.GetProperty("nodes")[0].GetProperty("clientUrl").GetString()!);
        foreach (var member in new[] { "c1", "c2", "c3" })
        {
            Signals.Send(MemberPid(home.Path, member), Signals.SigKill);
        }
        using (var put = await http.PutAsync(new Uri(nodeUrl, "/v1/kv/while/no/coordinator"), new StringContent("still")))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }
        // `up` starts the members again on their data directories.
        await Eventually.WaitUntilAsync(async () => (await TryClusterAsync(http, url)) is { } view && view.GetProperty("leader").ValueKind == JsonValueKind.String &&
            view.GetProperty("epoch").GetInt64() >= epoch && view.GetProperty("nodes").GetArrayLength() == 3,
            Deadline, () => $"the group did not come back. {up.Describe()}");
        Assert.Equal("still", await http.GetStringAsync(new Uri(url, "/v1/kv/while/no/coordinator")));
    }

    /// <remarks>
    /// One cluster, three changes, the leader SIGKILLed in the middle of each: a join with its
    /// transfers running, a decommission with its transfers running, and a node's death (killed
    /// for good: the memory engine is never restarted), the leader killed right after it so that
    /// the eviction and the rebuild fall to the next leader. Each change is carried through by the
    /// next leader, and every key ends on exactly its preference list, with its value.
    /// </remarks>
    [Fact]
    public async Task TheLeaderKilledMidJoinMidDecommissionAndRightAfterANodeDiesLeavesEveryChangeDoneAndEveryKeyOnItsOwners()
    {
        using var home = new TempDirectory("group-changes");
        await using var up = RingKvProcess.Start("up", "--nodes", "4", "--engine", "memory", "--port", "0", "--resp-port", "0", "--data-dir", home.Combine("data"),
            "--transfer-rate", "300", "--release-grace", "1", "--suspect-after", "2", "--eviction-grace", "4");
        var url = await up.WaitForUrlAsync(Deadline);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var keys = Enumerable.Range(0, 1200).Select(i => $"changes/{i}").ToList();
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (key, _) =>
        {
            using var put = await http.PutAsync(new Uri(url, $"/v1/kv/{key}?w=3"), new StringContent("v-" + key));
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        });

        // A join, the leader killed while its ranges are being copied.
        using (var add = await http.PostAsync(new Uri(url, "/v1/cluster/nodes"), null))
        {
            Assert.True(add.StatusCode == HttpStatusCode.Created, $"{add.StatusCode}: {await add.Content.ReadAsStringAsync()}");
        }
        await KillLeaderMidTransferAsync(http, url, home.Path, up);
        var joined = await SettledAsync(http, url, home.Path, map => map.Count == 5 && map.Values.All(state => state == "up"), up);
        await AssertEveryKeyOnExactlyItsOwnersAsync("after the join", home.Path, http, url, keys, joined);

        // A decommission, the leader killed while the leaving node's ranges are being copied.
        using (var remove = await http.DeleteAsync(new Uri(url, "/v1/cluster/nodes/n2")))
        {
            Assert.True(remove.StatusCode == HttpStatusCode.Accepted, $"{remove.StatusCode}: {await remove.Content.ReadAsStringAsync()}");
        }
        await KillLeaderMidTransferAsync(http, url, home.Path, up);
        var decommissioned = await SettledAsync(http, url, home.Path, map => map.Count == 4 && !map.ContainsKey("n2") && map.Values.All(state => state == "up"), up);
        await AssertEveryKeyOnExactlyItsOwnersAsync("after the decommission", home.Path, http, url, keys, decommissioned);

        // A node dies for good, and the leader right after it: the next leader notices, evicts it
        // and rebuilds its copies.
        var victim = decommissioned.Keys.Order(StringComparer.Ordinal).First();
        Signals.Send(NodePid(home.Path, victim), Signals.SigKill);
        Signals.Send(MemberPid(home.Path, (await ClusterAsync(http, url)).GetProperty("leader").GetString()!), Signals.SigKill);
        var evicted = await SettledAsync(http, url, home.Path, map => map.Count == 3 && !map.ContainsKey(victim), up);
        await AssertEveryKeyOnExactlyItsOwnersAsync("after the eviction", home.Path, http, url, keys, evicted);
    }

    /// <summary>Waits for a transfer under way (a range done, keys copied), then SIGKILLs the leader.</summary>
    private static async Task KillLeaderMidTransferAsync(HttpClient http, Uri url, string home, RingKvProcess up)
    {
        await Eventually.WaitUntilAsync(async () =>
        {
            using var response = await http.GetAsync(new Uri(url, "/v1/cluster/transfers"));
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }
            using var list = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return list.RootElement.GetProperty("transfers").EnumerateArray().Any(t => t.GetProperty("state").GetString() == "running" &&
                t.GetProperty("rangesDone").GetInt32() > 0 && t.GetProperty("keys").GetInt64() > 0);
        }, TimeSpan.FromSeconds(60), () => $"no transfer got under way. {up.Describe()}");
        var leader = (await ClusterAsync(http, url)).GetProperty("leader").GetString()!;
        Signals.Send(MemberPid(home, leader), Signals.SigKill);
    }

    /// <summary>
    /// Waits until every member answers with the same leader and epoch, no transfer runs, nothing
    /// is under-replicated, and the nodes' states pass <paramref name="settled"/>; returns the nodes' client URLs by id.
    /// </summary>
    private static async Task<Dictionary<string, Uri>> SettledAsync(HttpClient http, Uri url, string home, Func<Dictionary<string, string>, bool> settled, RingKvProcess up)
    {
        Dictionary<string, Uri> nodes = [];
        string seen = "";
        await Eventually.WaitUntilAsync(async () =>
        {
            var views = await Task.WhenAll(MemberUrls(home).Select(u => TryClusterAsync(http, u)));
            if (views.Any(v => v is null))
            {
                seen = "a member did not answer";
                return false;
            }
            var first = views[0]!.Value;
            var states = first.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetString()!, n => n.GetProperty("state").GetString()!);
            seen = $"epoch {first.GetProperty("epoch")}, leader {first.GetProperty("leader")}, nodes {string.Join(",", states.Select(p => p.Key + "=" + p.Value))}, " +
                $"transfers {first.GetProperty("activeTransfers")}, under-replicated {first.GetProperty("underReplicatedRanges")}";
            nodes = first.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("id").GetString()!, n => new Uri(n.GetProperty("clientUrl").GetString()!));
            return first.GetProperty("leader").ValueKind == JsonValueKind.String &&
                views.All(v => v!.Value.GetProperty("leader").GetString() == first.GetProperty("leader").GetString() && v.Value.GetProperty("epoch").GetInt64() == first.GetProperty("epoch").GetInt64()) &&
                first.GetProperty("activeTransfers").GetInt32() == 0 && first.GetProperty("underReplicatedRanges").GetInt32() == 0 && settled(states);
        }, Deadline, () => $"the cluster did not settle: {seen}. {up.Describe()}");
        return nodes;
    }

    /// <summary>Every key readable through the URL with its value, and held by exactly the nodes of its preference list (old owners drop theirs after the release grace).</summary>
    private static async Task AssertEveryKeyOnExactlyItsOwnersAsync(string phase, string home, HttpClient http, Uri url, List<string> keys, Dictionary<string, Uri> nodes)
    {
        string Describe(Uri member, string path)
        {
            try
            {
                return http.GetStringAsync(new Uri(member, path)).GetAwaiter().GetResult();
            }
            catch (HttpRequestException e)
            {
                return e.Message;
            }
        }

        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (key, _) =>
        {
            Assert.Equal("v-" + key, await http.GetStringAsync(new Uri(url, "/v1/kv/" + key)));
            using var located = JsonDocument.Parse(await http.GetStringAsync(new Uri(url, "/v1/cluster/locate/" + key)));
            var owners = located.RootElement.GetProperty("replicas").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(3, owners.Count);
            var holders = new List<string>();
            await Eventually.WaitUntilAsync(async () =>
            {
                holders.Clear();
                foreach (var (id, node) in nodes)
                {
                    using var local = await http.GetAsync(new Uri(node, "/v1/local/kv/" + key));
                    if (local.StatusCode == HttpStatusCode.OK)
                    {
                        holders.Add(id);
                    }
                }
                return holders.Order(StringComparer.Ordinal).SequenceEqual(owners);
            }, TimeSpan.FromSeconds(30), () => $"{phase}: {key} expected on [{string.Join(",", owners)}], found on [{string.Join(",", holders)}]; " +
                string.Join("; ", MemberUrls(home).Select(member => $"{member.Port}: {Describe(member, "/v1/cluster/locate/" + key + "?versions=true")}")));
        });
    }

    /// <summary>The process of node <paramref name="id"/> of the cluster whose data is under <paramref name="home"/>.</summary>
    private static int NodePid(string home, string id)
    {
        var marker = "\0--data-dir\0" + Path.Combine(home, "data", "nodes", id);
        return TempDirectory.ProcessesUsing(home).Single(pid =>
        {
            try
            {
                var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
                return commandLine.Contains("\0node\0", StringComparison.Ordinal) && commandLine.Contains(marker + "\0", StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        });
    }

    private static async Task<JsonElement> ClusterAsync(HttpClient http, Uri url) =>
        await TryClusterAsync(http, url) ?? throw new InvalidOperationException($"{url} did not answer /v1/cluster");

    private static Task<JsonElement?> TryClusterAsync(HttpClient http, Uri url) => Harness.ClusterStatus.TryGetAsync(http, url);

    /// <summary>The process of coordinator member <paramref name="id"/> of the cluster whose data is under <paramref name="home"/>.</summary>
    private static int MemberPid(string home, string id) =>
        TempDirectory.ProcessesUsing(home).Single(pid =>
        {
            try
            {
                var commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
                return commandLine.Contains("\0--member-id\0" + id + "\0", StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
        });

    /// <summary>Each member's own URL, from the layout `up` keeps in the data directory.</summary>
    private static IEnumerable<Uri> MemberUrls(string home)
    {
        using var layout = JsonDocument.Parse(File.ReadAllText(Path.Combine(home, "data", "coordinators.json")));
        return [.. layout.RootElement.EnumerateArray().Select(m => new Uri($"http://127.0.0.1:{m.GetProperty("apiPort").GetInt32()}"))];
    }
}
