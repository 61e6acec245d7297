using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using RingKv.Testing;
using RingKv.Testing.Network;
using Xunit.Abstractions;

namespace RingKv.Cluster.Tests.Partitions;

/// <summary>
/// The coordinator group across a real network partition: 3 members and 3 nodes, each in a network
/// namespace of its own, and the leader cut off from every other host. The majority elects a new
/// leader and goes on deciding; the old leader, alone, hears from no node for longer than the
/// eviction grace and must act on nothing; healed, the group has one leader and the map is the
/// one it had.
/// </summary>
public sealed class CoordinatorGroupPartitionTests(ITestOutputHelper output)
{
    private const int ApiPort = 7000;
    private const int RaftPort = 7001;
    private const int EvictionGraceSeconds = 4;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [PartitionFact]
    public async Task ALeaderCutOffFromTheGroupActsOnNothingWhileTheMajorityElectsAndDecidesAndHealedThereIsOneMap()
    {
        using var directory = new TempDirectory("group-partition");
        // Its own subnet: the partition suite's network may exist at the same time.
        using var network = VirtualNetwork.Create("10.79.0");
        var processes = new List<RingKvProcess>();
        var clients = new Dictionary<string, HttpClient>(StringComparer.Ordinal);
        try
        {
            var authFile = directory.Combine("auth.json");
            var created = await RingKvProcess.RunAsync(["token", "create", "--role", "admin", "--name", "group-partition", "--auth-file", authFile], Deadline);
            Assert.True(created.ExitCode == 0, created.Description);
            var token = created.StandardOutput.Trim();
            var secretFile = directory.Combine("cluster.secret");
            await File.WriteAllTextAsync(secretFile, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(secretFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            string[] secured = ["--auth-file", authFile, "--cluster-secret-file", secretFile];

            HttpClient ClientOn(NetworkHost host)
            {
                if (!clients.TryGetValue(host.Name, out var http))
                {
                    http = host.CreateHttpClient(TimeSpan.FromSeconds(15));
                    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    clients[host.Name] = http;
                }
                return http;
            }

            var members = new[] { "c1", "c2", "c3" }.ToDictionary(id => id, network.AddHost, StringComparer.Ordinal);
            Uri MemberUrl(string id) => new($"http://{members[id].Address}:{ApiPort.ToString(CultureInfo.InvariantCulture)}");
            var peers = string.Join(',', members.Keys.Select(id => $"{id}={MemberUrl(id)}@{RaftPort.ToString(CultureInfo.InvariantCulture)}".Replace("/@", "@", StringComparison.Ordinal)));
            foreach (var (id, host) in members)
            {
                processes.Add(RingKvProcess.Start(["coordinator", "--member-id", id, "--peers", peers, "--bind", host.Address.ToString(), "--port", ApiPort.ToString(CultureInfo.InvariantCulture),
                    "--resp-port", "0", "--data-dir", directory.Combine(id), "--replicas", "3", "--suspect-after", "2", "--eviction-grace", EvictionGraceSeconds.ToString(CultureInfo.InvariantCulture), .. secured],
                    new RingKvProcessOptions { NetworkNamespace = host.Namespace }));
            }
            var join = string.Join(',', members.Keys.Select(id => MemberUrl(id).ToString().TrimEnd('/')));
            var nodes = new Dictionary<string, NetworkHost>(StringComparer.Ordinal);
            foreach (var id in new[] { "n1", "n2", "n3" })
            {
                var host = network.AddHost(id);
                nodes[id] = host;
                processes.Add(RingKvProcess.Start(["node", "--join", join, "--node-name", id, "--bind", host.Address.ToString(), "--port", ApiPort.ToString(CultureInfo.InvariantCulture),
                    "--internode-port", RaftPort.ToString(CultureInfo.InvariantCulture), "--data-dir", directory.Combine(id), "--engine", "memory", .. secured],
                    new RingKvProcessOptions { NetworkNamespace = host.Namespace }));
            }

            // Settled: a leader, every member answering with its map, the 3 nodes up.
            JsonElement before = default;
            await Eventually.WaitUntilAsync(async () =>
            {
                var view = await TryClusterAsync(ClientOn(members["c1"]), MemberUrl("c1"));
                before = view ?? default;
                return view is { } v && v.GetProperty("leader").ValueKind == JsonValueKind.String &&
                    v.GetProperty("nodes").EnumerateArray().Count(n => n.GetProperty("state").GetString() == "up") == 3;
            }, Deadline, () => $"the group and its nodes did not come up: {before}. {string.Join("\n", processes.Select(p => p.Describe()))}");
            var leader = before.GetProperty("leader").GetString()!;
            var epoch = before.GetProperty("epoch").GetInt64();
            var majority = members.Keys.Where(id => id != leader).ToList();
            output.WriteLine($"leader {leader}, epoch {epoch}; cutting {leader} off");

            var isolated = processes[Array.IndexOf(members.Keys.ToArray(), leader)];
            var mark = isolated.StandardError.Length;
            network.Isolate(members[leader]);
            try
            {
                // The majority elects one of its own.
                string? next = null;
                await Eventually.WaitUntilAsync(async () =>
                {
                    var view = await TryClusterAsync(ClientOn(members[majority[0]]), MemberUrl(majority[0]));
                    next = view?.GetProperty("leader") is { ValueKind: JsonValueKind.String } l ? l.GetString() : null;
                    return next is not null && next != leader;
                }, Deadline, () => $"the majority elected no new leader (it sees {next})");
                output.WriteLine($"the majority elected {next}");

                // The old leader, alone, stops leading: it answers, but names no leader (or not itself).
                string? alone = null;
                await Eventually.WaitUntilAsync(async () =>
                {
                    var view = await TryClusterAsync(ClientOn(members[leader]), MemberUrl(leader));
                    alone = view?.ToString();
                    return view is { } v && !(v.GetProperty("leader").ValueKind == JsonValueKind.String && v.GetProperty("leader").GetString() == leader);
                }, Deadline, () => $"{leader}, cut off, still says it leads: {alone}");
                // A change asked of it is refused, never taken on.
                using (var refused = await ClientOn(members[leader]).PostAsync(new Uri(MemberUrl(leader), "/v1/cluster/nodes"), null))
                {
                    Assert.True(refused.StatusCode == HttpStatusCode.ServiceUnavailable, $"{refused.StatusCode}: {await refused.Content.ReadAsStringAsync()}");
                }

                // Longer than the eviction grace: a member that still acted on its old term, hearing
                // no heartbeat, would evict every node.
                await Task.Delay(TimeSpan.FromSeconds(EvictionGraceSeconds * 2));

                // The majority goes on deciding, and the nodes on serving.
                using (var put = await ClientOn(nodes["n1"]).PutAsync(new Uri($"http://{nodes["n1"].Address}:{ApiPort}/v1/kv/during/partition"), new StringContent("v")))
                {
                    Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
                }
                var during = await TryClusterAsync(ClientOn(members[majority[0]]), MemberUrl(majority[0]));
                Assert.True(during is { } d && d.GetProperty("nodes").EnumerateArray().All(n => n.GetProperty("state").GetString() == "up"), during?.ToString());

                // What the old leader did alone: nothing. No state change judged, no eviction, no
                // transfer (it hears from no node, so a member acting on its old term would evict them all).
                var whileAlone = isolated.StandardError[mark..];
                foreach (var action in new[] { "-> suspect", "-> dead", "Evicted ", "action=member-", "action=transfer-started" })
                {
                    Assert.False(whileAlone.Contains(action, StringComparison.Ordinal), $"{leader}, cut off, logged '{action}':\n{whileAlone}");
                }
            }
            finally
            {
                network.Heal();
            }

            // Healed: every member names the same leader and holds the same map; its nodes are the
            // ones from before, all up (the new leader may have judged one suspect for a moment
            // while the nodes moved their heartbeats to it: a decision of the leader, not of the
            // member cut off).
            var seen = "";
            await Eventually.WaitUntilAsync(async () =>
            {
                var views = await Task.WhenAll(members.Keys.Select(id => TryClusterAsync(ClientOn(members[id]), MemberUrl(id))));
                seen = string.Join(" | ", views.Select(v => v is { } x ? $"leader {x.GetProperty("leader")} epoch {x.GetProperty("epoch")}" : "no answer"));
                return views.All(v => v is { } x && x.GetProperty("leader").ValueKind == JsonValueKind.String &&
                    x.GetProperty("leader").GetString() == views[0]!.Value.GetProperty("leader").GetString() &&
                    x.GetProperty("epoch").GetInt64() == views[0]!.Value.GetProperty("epoch").GetInt64() && x.GetProperty("epoch").GetInt64() >= epoch);
            }, Deadline, () => $"the group did not agree after healing: {seen}");
            var after = (await TryClusterAsync(ClientOn(members[majority[0]]), MemberUrl(majority[0])))!.Value;
            Assert.Equal(["n1", "n2", "n3"], after.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("id").GetString()).Order());
            Assert.All(after.GetProperty("nodes").EnumerateArray(), n => Assert.Equal("up", n.GetProperty("state").GetString()));
            Assert.DoesNotContain(after.GetProperty("transitions").EnumerateArray(), t => t.GetProperty("reason").GetString()!.StartsWith("evicted", StringComparison.Ordinal));
            output.WriteLine($"healed at epoch {after.GetProperty("epoch")}, leader {after.GetProperty("leader")}; transitions: " +
                string.Join("; ", after.GetProperty("transitions").EnumerateArray().Select(t => $"{t.GetProperty("node")} {t.GetProperty("from")}->{t.GetProperty("to")} ({t.GetProperty("reason")})")));
        }
        finally
        {
            foreach (var process in processes)
            {
                await process.DisposeAsync();
            }
            foreach (var http in clients.Values)
            {
                http.Dispose();
            }
        }
    }

    private static Task<JsonElement?> TryClusterAsync(HttpClient http, Uri member) => Harness.ClusterStatus.TryGetAsync(http, member);
}
