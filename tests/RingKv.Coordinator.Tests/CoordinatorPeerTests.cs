using RingKv.Coordinator.Consensus;

namespace RingKv.Coordinator.Tests;

public sealed class CoordinatorPeerTests
{
    [Fact]
    public void AGroupIsParsedWithEachMembersUrlAndRaftPort()
    {
        var peers = CoordinatorPeer.ParseList("c1=http://10.0.0.1:7000@7100, c2=https://10.0.0.2:7000@7100,c3=http://[::1]:7002@7102");
        Assert.Equal(["c1", "c2", "c3"], peers.Select(p => p.Id));
        Assert.Equal(new Uri("https://10.0.0.2:7000/"), peers[1].Url);
        Assert.Equal(7102, peers[2].RaftEndPoint.Port);
        Assert.Equal("c1=http://10.0.0.1:7000@7100", peers[0].ToString());
    }

    [Theory]
    [InlineData("c1=http://10.0.0.1:7000@7100,c2=http://10.0.0.2:7000@7100")] // two members: no majority survives one failure
    [InlineData("c1=http://host.example:7000@7100")] // Raft identifies members by address
    [InlineData("c1=http://10.0.0.1:7000")]
    [InlineData("c1=http://10.0.0.1:7000@x")]
    [InlineData("c1=http://10.0.0.1:7000@1,c1=http://10.0.0.2:7000@1,c3=http://10.0.0.3:7000@1")]
    public void AListThatIsNotAGroupIsRefusedWithTheReason(string text) =>
        Assert.Throws<ArgumentException>(() => CoordinatorPeer.ParseList(text));
}
