using RingKv.Node.Internode;
using RingKv.Node.Internode.Grpc;
using RingKv.Node.Internode.Protocol;

namespace RingKv.Node.Tests.Internode;

/// <summary>Write outcomes on the wire: numbers fixed once given (old and new nodes talk during an upgrade), one mapping each way.</summary>
public sealed class WriteOutcomeMessagesTests
{
    [Theory]
    [InlineData(ReplicaWriteOutcome.Applied, 0)]
    [InlineData(ReplicaWriteOutcome.Stale, 1)]
    [InlineData(ReplicaWriteOutcome.HintRefused, 2)]
    [InlineData(ReplicaWriteOutcome.TooFarAhead, 3)]
    public void EachOutcomeKeepsItsWireNumberAndComesBackAsItself(ReplicaWriteOutcome outcome, int wire)
    {
        Assert.Equal(wire, (int)outcome.ToMessage());
        Assert.Equal(outcome, ((ReplicaWriteStatus)wire).ToOutcome());
    }

    [Fact]
    public void EveryOutcomeHasAWireForm() =>
        Assert.All(Enum.GetValues<ReplicaWriteOutcome>(), outcome => Assert.True(Enum.IsDefined(outcome.ToMessage())));

    [Fact]
    public void AStatusFromANewerPeerIsARefusalNotAnAcknowledgement()
    {
        var outcome = ((ReplicaWriteStatus)99).ToOutcome();
        Assert.NotEqual(ReplicaWriteOutcome.Applied, outcome);
        Assert.NotEqual(ReplicaWriteOutcome.Stale, outcome);
    }
}
