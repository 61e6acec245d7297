using RingKv.Node.Replication;

namespace RingKv.Node.Tests.Replication;

public sealed class QuorumWaiterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task TwoAnswersFromOneNodeAreOneAcknowledgement()
    {
        // Two owners that did not answer both fell back to the same node: one copy, not two.
        Task<string?>[] calls = [Task.FromResult<string?>("n5"), Task.FromResult<string?>("n5"), Task.FromResult<string?>(null)];
        var (quorum, succeeded) = await QuorumWaiter.WaitAsync(calls, 2, Deadline, CancellationToken.None, node => node);
        Assert.Null(quorum);
        Assert.Equal(1, succeeded);
    }

    [Fact]
    public async Task AnswersFromDistinctNodesMakeTheQuorum()
    {
        Task<string?>[] calls = [Task.FromResult<string?>("n1"), Task.FromResult<string?>("n5"), Task.FromResult<string?>("n5")];
        var (quorum, succeeded) = await QuorumWaiter.WaitAsync(calls, 2, Deadline, CancellationToken.None, node => node);
        Assert.Equal(["n1", "n5"], quorum!.Order());
        Assert.Equal(2, succeeded);
    }

    [Fact]
    public async Task GivesUpAtOnceWhenDuplicatesLeaveTooFewNodes()
    {
        // The third call never ends: the answer must not wait for the deadline once two of three are spent.
        var never = new TaskCompletionSource<string?>();
        Task<string?>[] calls = [Task.FromResult<string?>("n2"), Task.FromResult<string?>("n2"), never.Task];
        var (quorum, _) = await QuorumWaiter.WaitAsync(calls, 3, TimeSpan.FromMinutes(5), CancellationToken.None, node => node);
        Assert.Null(quorum);
    }
}
