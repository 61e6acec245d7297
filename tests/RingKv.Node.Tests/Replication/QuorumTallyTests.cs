using RingKv.Node.Replication;

namespace RingKv.Node.Tests.Replication;

/// <summary>The counting rule every coordinated write uses: W distinct nodes, decided as soon as it is known.</summary>
public sealed class QuorumTallyTests
{
    [Fact]
    public void TwoAnswersFromOneNodeAreOneAcknowledgement()
    {
        // Two owners that did not answer both fell back to the same node: one copy, not two.
        var tally = new QuorumTally(required: 2, expected: 3, distinctNodes: true);
        Assert.False(tally.Record("n5"));
        Assert.False(tally.Record("n5"));
        Assert.True(tally.Record(null));
        Assert.False(tally.Reached);
        Assert.Equal(1, tally.Succeeded);
    }

    [Fact]
    public void AnswersFromDistinctNodesMakeTheQuorumOnce()
    {
        var tally = new QuorumTally(required: 2, expected: 3, distinctNodes: true);
        Assert.False(tally.Record("n1"));
        Assert.True(tally.Record("n5"));
        Assert.True(tally.Reached);
        // A later answer is counted but decides nothing again.
        Assert.False(tally.Record("n2"));
        Assert.Equal(3, tally.Succeeded);
    }

    [Fact]
    public void IsDecidedAsSoonAsDuplicatesLeaveTooFewNodes()
    {
        var tally = new QuorumTally(required: 3, expected: 3, distinctNodes: true);
        Assert.False(tally.Record("n2"));
        Assert.True(tally.Record("n2"));
        Assert.True(tally.Decided);
        Assert.False(tally.Reached);
    }

    [Fact]
    public void WithoutNodeNamesEverySuccessCounts()
    {
        var tally = new QuorumTally(required: 2, expected: 2, distinctNodes: false);
        Assert.False(tally.Record(true));
        Assert.True(tally.Record(true));
        Assert.True(tally.Reached);
        Assert.Throws<InvalidOperationException>(() => tally.Record("n1"));
    }
}
