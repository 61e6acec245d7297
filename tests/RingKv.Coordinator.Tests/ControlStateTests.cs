using CsCheck;
using RingKv.Coordinator.Consensus;
using RingKv.Core.Cluster;

namespace RingKv.Coordinator.Tests;

/// <summary>The coordinators' state machine: every entry is a whole state, so replaying any part of the log gives the same state.</summary>
public sealed class ControlStateTests
{
    private static readonly Gen<ControlState> States =
        Gen.Select(Gen.Int[1, 5], Gen.Int[0, 6], Gen.Int[0, 3], Gen.Long[0, 1000], (rf, members, departed, epoch) =>
        {
            var list = Enumerable.Range(1, members).Select(i => new ClusterMember("n" + i, (uint)i, $"http://127.0.0.1:{7000 + i}", $"http://127.0.0.1:{8000 + i}",
                (MemberState)(i % 5), [(ulong)i * 1000, (ulong)i * 1000 + 7], i % 2 == 0 ? $"redis://127.0.0.1:{9000 + i}" : null)).ToArray();
            var map = new ClusterMap(epoch, rf, list, (uint)members + (uint)departed);
            var state = ControlState.Create(rf).WithMap(map);
            for (var d = 0; d < departed; d++)
            {
                state = state.WithDeparted("gone" + d, removed: d % 2 == 0);
            }
            foreach (var member in list.Where(m => m.Number % 3 == 0))
            {
                state = state.WithLaunched(member.Id, 4000 + (int)member.Number);
            }
            return members > 0 ? state.WithRepair(new PendingRepair("gone0", map)) : state;
        });

    [Fact]
    public void AStateReadsBackAsItWasWritten() =>
        States.Sample(state => Assert.Equal(state.ToUtf8Json(), ControlState.FromJson(state.ToUtf8Json()).ToUtf8Json()));

    [Fact]
    public void ReplayingALogFromAnyPointOrTwiceGivesTheSameState() =>
        Gen.Select(States.Array[1, 8], Gen.Int[0, 7]).Sample((log, from) =>
        {
            var entries = log.Select(s => s.ToUtf8Json()).ToArray();
            // Raft may hand a restarted member entries it applied already: from its snapshot on, or again.
            var once = entries.Aggregate((ControlState?)null, (_, entry) => ControlState.FromJson(entry))!;
            var replayed = entries.Skip(Math.Min(from, entries.Length - 1)).Concat(entries).Aggregate((ControlState?)null, (_, entry) => ControlState.FromJson(entry))!;
            Assert.Equal(once.ToUtf8Json(), replayed.ToUtf8Json());
        });

    [Fact]
    public void ADepartedMemberIsNoLongerSupervised()
    {
        var state = ControlState.Create(3).WithLaunched("n1", 42).WithLaunched("n2", 43).WithDeparted("n1", removed: false);
        Assert.False(state.Launched.ContainsKey("n1"));
        Assert.Equal(43, state.Launched["n2"]);
        Assert.False(state.Departed["n1"]);
    }
}
