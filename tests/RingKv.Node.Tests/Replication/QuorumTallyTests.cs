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
    [Fact]
    public void WithAnAnchorTheQuorumWaitsForIt()
    {
        // --synced-acks one: the two peers' copies are only logged; the coordinating node's is synced.
        var tally = new QuorumTally(required: 2, expected: 3, distinctNodes: true, anchor: "n1");
        Assert.False(tally.Record("n2"));
        Assert.False(tally.Record("n3"));
        Assert.False(tally.Decided);
        Assert.False(tally.Reached);
        Assert.True(tally.RecordAnchor());
        Assert.True(tally.Reached);
    }

    [Fact]
    public void AnotherAnswerUnderTheAnchorsIdIsNotTheAnchor()
    {
        // A hint the coordinating node keeps for a down owner counts towards W, not as its own copy.
        var tally = new QuorumTally(required: 2, expected: 4, distinctNodes: true, anchor: "n1");
        Assert.False(tally.Record("n1"));
        Assert.False(tally.Record("n2"));
        Assert.False(tally.Reached);
        Assert.True(tally.RecordAnchor());
        Assert.True(tally.Reached);
        Assert.Equal(2, tally.Succeeded);
    }

    [Fact]
    public void WithAnAnchorOneOtherAnswerIsEnough()
    {
        var tally = new QuorumTally(required: 2, expected: 3, distinctNodes: true, anchor: "n1");
        Assert.False(tally.RecordAnchor());
        Assert.True(tally.Record("n3"));
        Assert.True(tally.Reached);
    }

    [Fact]
    public void TheAnchorFailingDecidesTheOutcomeWhateverTheOthersSay()
    {
        var tally = new QuorumTally(required: 2, expected: 3, distinctNodes: true, anchor: "n1");
        Assert.False(tally.Record("n2"));
        Assert.True(tally.RecordAnchorFailed());
        Assert.True(tally.Decided);
        Assert.False(tally.Reached);
        // A later success decides nothing again, and the quorum stays out of reach.
        Assert.False(tally.Record("n3"));
        Assert.False(tally.Reached);
    }

    [Fact]
    public void WithAnAnchorOtherFailuresStillMakeTheQuorumOutOfReach()
    {
        var tally = new QuorumTally(required: 2, expected: 3, distinctNodes: true, anchor: "n1");
        Assert.False(tally.Record(null));
        Assert.True(tally.Record(null));
        Assert.False(tally.Reached);
        Assert.Throws<InvalidOperationException>(() => new QuorumTally(2, 3, distinctNodes: true).RecordAnchorFailed());
        Assert.Throws<InvalidOperationException>(() => new QuorumTally(2, 3, distinctNodes: true).RecordAnchor());
        Assert.Throws<ArgumentException>(() => new QuorumTally(2, 3, distinctNodes: false, anchor: "n1"));
    }
}
