using System.Text.Json;
using RingKv.Core.Cluster;
using RingKv.Core.Ring;

namespace RingKv.Core.Tests.Cluster;

public sealed class ClusterMapTests
{
    private static readonly TokenAllocator Allocator = new(tokensPerNode: 16);

    /// <summary>Admits a node the way the coordinator will: tokens allocated against the future ring.</summary>
    private static ClusterMap Admit(ClusterMap map, string id, MemberState state = MemberState.Up)
    {
        var tokens = Allocator.AllocateTokens(map.FutureRing, id);
        var member = new ClusterMember(id, map.NextMemberNumber, $"http://127.0.0.1:{7000 + map.NextMemberNumber}", $"http://127.0.0.1:{8000 + map.NextMemberNumber}", MemberState.Joining, tokens);
        var joined = map.WithMember(member);
        return state == MemberState.Joining ? joined : joined.WithState(id, state);
    }

    private static ClusterMap ThreeNodes() => Admit(Admit(Admit(ClusterMap.Create(3), "n1"), "n2"), "n3");

    [Fact]
    public void EveryChangeIncrementsTheEpochAndLeavesThePreviousSnapshotUntouched()
    {
        var empty = ClusterMap.Create(3);
        Assert.Equal(0, empty.Epoch);

        var joined = empty.WithMember(new ClusterMember("n1", empty.NextMemberNumber, "http://a", "http://b", MemberState.Joining, [1, 2]));
        var up = joined.WithState("n1", MemberState.Up);
        var gone = up.WithoutMember("n1");

        Assert.Equal([1L, 2L, 3L], [joined.Epoch, up.Epoch, gone.Epoch]);
        Assert.Empty(empty.Members);
        Assert.Equal(MemberState.Joining, joined.FindMember("n1")!.State);
        Assert.Equal(MemberState.Up, up.FindMember("n1")!.State);
        Assert.Null(gone.FindMember("n1"));
    }

    [Fact]
    public void SettingTheStateAMemberAlreadyHasIsNoChange()
    {
        var map = ThreeNodes();
        Assert.Same(map, map.WithState("n2", MemberState.Up));
    }

    [Fact]
    public void JoiningMembersOwnNoRangesUntilUpWhileSuspectDeadAndLeavingStillOwn()
    {
        var map = Admit(ThreeNodes(), "n4", MemberState.Joining);
        Assert.Equal(["n1", "n2", "n3"], map.Ring.Nodes);
        Assert.Equal(["n1", "n2", "n3", "n4"], map.FutureRing.Nodes);
        Assert.Equal(0.0, map.Ring.Ownership("n4"));

        map = map.WithState("n4", MemberState.Up)
            .WithState("n1", MemberState.Suspect)
            .WithState("n2", MemberState.Dead)
            .WithState("n3", MemberState.Leaving);
        Assert.Equal(["n1", "n2", "n3", "n4"], map.Ring.Nodes);
        Assert.Equal(["n1", "n2", "n4"], map.FutureRing.Nodes);
    }

    [Fact]
    public void RingIsBuiltFromTheMembersTokens()
    {
        var map = ThreeNodes();
        foreach (var member in map.Members)
        {
            Assert.Equal(member.Tokens, map.Ring.TokensOf(member.Id));
        }
        Assert.Same(map.Ring, map.Ring);
    }

    [Fact]
    public void MemberNumbersAreNeverReusedEvenAfterRemoval()
    {
        var map = ThreeNodes();
        var highest = map.HighestMemberNumber;
        Assert.Equal(3u, highest);
        map = map.WithoutMember("n3");
        Assert.Equal(4u, map.NextMemberNumber);
        var reused = new ClusterMember("n9", 3, "http://a", "http://b", MemberState.Joining, [42]);
        var error = Assert.Throws<ArgumentException>(() => map.WithMember(reused));
        Assert.Contains("NextMemberNumber", error.Message);
    }

    [Fact]
    public void DuplicateIdsAndOverlappingTokensAreRefused()
    {
        var map = ThreeNodes();
        Assert.Throws<ArgumentException>(() => map.WithMember(new ClusterMember("n1", map.NextMemberNumber, "u", "v", MemberState.Joining, [7])));
        var taken = map.Members[0].Tokens[0];
        Assert.Throws<ArgumentException>(() => map.WithMember(new ClusterMember("n4", map.NextMemberNumber, "u", "v", MemberState.Joining, [taken])));
        Assert.Throws<ArgumentException>(() => map.WithoutMember("nobody"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ClusterMember("n5", 0, "u", "v", MemberState.Up, []));
        Assert.Throws<ArgumentException>(() => new ClusterMember("n5", 5, "u", "v", MemberState.Up, [1, 1]));
    }

    [Fact]
    public void MemberTokensAreACopyHeldInAscendingOrder()
    {
        var tokens = new List<ulong> { 30, 10, 20 };
        var member = new ClusterMember("n1", 1, "u", "v", MemberState.Up, tokens);
        tokens.Add(40);
        Assert.Equal([10UL, 20UL, 30UL], member.Tokens);
    }

    [Fact]
    public void JsonRoundTripKeepsEveryFieldAndTheEpoch()
    {
        var map = Admit(ThreeNodes(), "n4", MemberState.Joining).WithState("n2", MemberState.Suspect).WithoutMember("n1");
        var restored = ClusterMap.FromJson(map.ToJson());

        Assert.Equal(map.Epoch, restored.Epoch);
        Assert.Equal(map.ReplicationFactor, restored.ReplicationFactor);
        Assert.Equal(map.HighestMemberNumber, restored.HighestMemberNumber);
        Assert.Equal(map.Members, restored.Members);
        Assert.Equal(map.Ring.VirtualNodes, restored.Ring.VirtualNodes);
        Assert.Equal(map.ToUtf8Json(), restored.ToUtf8Json());
    }

    [Fact]
    public void JsonIsCamelCaseWithStateNamesAndTokensAsStrings()
    {
        var map = ClusterMap.Create(3).WithMember(new ClusterMember("n1", 1, "http://127.0.0.1:7001", "http://127.0.0.1:8001", MemberState.Joining, [ulong.MaxValue, 5]));
        using var json = JsonDocument.Parse(map.ToJson());
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("epoch").GetInt64());
        Assert.Equal(3, root.GetProperty("replicationFactor").GetInt32());
        var member = root.GetProperty("members")[0];
        Assert.Equal("n1", member.GetProperty("id").GetString());
        Assert.Equal(1u, member.GetProperty("number").GetUInt32());
        Assert.Equal("http://127.0.0.1:7001", member.GetProperty("clientUrl").GetString());
        Assert.Equal("http://127.0.0.1:8001", member.GetProperty("internodeUrl").GetString());
        Assert.Equal("joining", member.GetProperty("state").GetString());
        // Full 64-bit tokens survive readers that hold JSON numbers as doubles.
        Assert.Equal(["5", "18446744073709551615"], member.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()));
        Assert.False(root.TryGetProperty("ring", out _));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("null")]
    [InlineData("""{"epoch":1,"replicationFactor":0,"members":[],"highestMemberNumber":0}""")]
    [InlineData("""{"epoch":1,"replicationFactor":3,"members":[{"id":"a","number":1,"clientUrl":"u","internodeUrl":"v","state":"up","tokens":["1"]},{"id":"a","number":2,"clientUrl":"u","internodeUrl":"v","state":"up","tokens":["2"]}],"highestMemberNumber":2}""")]
    [InlineData("""{"epoch":1,"replicationFactor":3,"members":[{"id":"a","number":1,"clientUrl":"u","internodeUrl":"v","state":"sleeping","tokens":[]}],"highestMemberNumber":1}""")]
    public void MalformedOrInvalidJsonIsRefusedWithAJsonException(string json)
    {
        Assert.ThrowsAny<JsonException>(() => ClusterMap.FromJson(json));
    }
}
