using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using RingKv.Coordinator.Consensus;
using RingKv.Core.Cluster;
using RingKv.Testing;

namespace RingKv.Coordinator.Tests;

/// <summary>The Raft log of the coordinator group, in this process on loopback: real elections, real write-ahead logs.</summary>
public sealed class RaftControlLogTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AGroupCommitsOnItsLeaderAppliesOnEveryMemberAndElectsAnotherWhenTheLeaderStops()
    {
        using var home = new TempDirectory("raft-group");
        var peers = Peers(3);
        var logs = peers.ToDictionary(p => p.Id, p => Log(p, peers, home.Combine(p.Id)));
        try
        {
            await Task.WhenAll(logs.Values.Select(l => l.StartAsync(CancellationToken.None)));
            var leader = await LeaderAsync(logs.Values);
            await Eventually.WaitUntilAsync(() => logs.Values.All(l => l.Current is not null), Deadline, () => "the first state was not applied everywhere");

            var next = leader.Current!.WithMap(leader.Current.Map.WithMember(Member("n1")));
            await leader.ProposeAsync(next, CancellationToken.None);
            await Eventually.WaitUntilAsync(() => logs.Values.All(l => l.Current?.Map.FindMember("n1") is not null), Deadline, () => "followers did not apply the change");
            var follower = logs.Values.First(l => l != leader);
            await Assert.ThrowsAsync<NotLeaderException>(() => follower.ProposeAsync(next, CancellationToken.None));

            // The leader goes away: the two left elect one of them, which commits on top of what was.
            logs.Remove(leader.MemberId);
            await leader.DisposeAsync();
            var successor = await LeaderAsync(logs.Values);
            Assert.NotEqual(leader.MemberId, successor.MemberId);
            await successor.ProposeAsync(successor.Current!.WithMap(successor.Current.Map.WithMember(Member("n2"))), CancellationToken.None);
            await Eventually.WaitUntilAsync(() => logs.Values.All(l => l.Current?.Map.Members.Count == 2), Deadline, () => "the successor's change was not applied");
            Assert.Equal(successor.MemberId, successor.Status().LeaderId);

            // Restarted on its data directory, the old leader catches up by itself.
            var back = Log(peers.Single(p => p.Id == leader.MemberId), peers, home.Combine(leader.MemberId));
            logs[back.MemberId] = back;
            await back.StartAsync(CancellationToken.None);
            await Eventually.WaitUntilAsync(() => back.Current?.Map.Members.Count == 2, Deadline, () => "the restarted member did not catch up");
        }
        finally
        {
            foreach (var log in logs.Values)
            {
                await log.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task AOneMemberGroupTakesOverASingleCoordinatorsMapAndKeepsItsStateAcrossARestartAndSnapshots()
    {
        using var home = new TempDirectory("raft-single");
        var legacy = ControlState.Create(3).WithMap(ClusterMap.Create(3).WithMember(Member("n1"))).WithDeparted("n0", removed: false);
        Directory.CreateDirectory(home.Path);
        File.WriteAllBytes(Path.Combine(home.Path, LocalControlLog.MapFile), legacy.Map.ToUtf8Json());
        File.WriteAllText(Path.Combine(home.Path, LocalControlLog.DepartedFile), JsonSerializer.Serialize(legacy.Departed));
        var peers = Peers(1);
        var log = Log(peers[0], peers, home.Path);
        try
        {
            await log.StartAsync(CancellationToken.None);
            await log.WaitForLeadershipAsync(new CancellationTokenSource(Deadline).Token);
            Assert.Equal(legacy.Map.Epoch, log.Current!.Map.Epoch);
            Assert.NotNull(log.Current.Map.FindMember("n1"));
            Assert.True(log.Current.Departed.ContainsKey("n0"));
            // Past a snapshot (every 64 entries), so the restart restores one and replays the rest.
            var state = log.Current;
            for (var i = 2; i <= 80; i++)
            {
                state = state.WithMap(state.Map.WithMember(Member("n" + i)));
                await log.ProposeAsync(state, CancellationToken.None);
            }
        }
        finally
        {
            await log.DisposeAsync();
        }
        var restarted = Log(peers[0], peers, home.Path);
        try
        {
            await restarted.StartAsync(CancellationToken.None);
            await restarted.WaitForLeadershipAsync(new CancellationTokenSource(Deadline).Token);
            Assert.Equal(80, restarted.Current!.Map.Members.Count);
        }
        finally
        {
            await restarted.DisposeAsync();
        }
    }

    private static ClusterMember Member(string id) => new(id, uint.Parse(id[1..], System.Globalization.CultureInfo.InvariantCulture), "http://127.0.0.1:1", "http://127.0.0.1:2", MemberState.Up, []);

    private static List<CoordinatorPeer> Peers(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new CoordinatorPeer("c" + i, new Uri($"http://127.0.0.1:{FreePort.Get()}/"), FreePort.Get()))];

    private static RaftControlLog Log(CoordinatorPeer self, IReadOnlyList<CoordinatorPeer> peers, string root) =>
        new(self, peers, root, 3, _ => Task.FromResult<ControlState?>(null), new CoordinatorGroupMetrics(), NullLoggerFactory.Instance);

    private static async Task<RaftControlLog> LeaderAsync(IEnumerable<RaftControlLog> logs)
    {
        RaftControlLog? leader = null;
        await Eventually.WaitUntilAsync(() => (leader = logs.SingleOrDefault(l => l.IsLeader)) is not null, Deadline, () => "no leader elected");
        return leader!;
    }
}
