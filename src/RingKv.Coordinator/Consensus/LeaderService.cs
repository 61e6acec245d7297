using Microsoft.Extensions.Hosting;

namespace RingKv.Coordinator.Consensus;

/// <summary>
/// A background duty only the group's leader performs (failure detection, membership changes,
/// placement cleanup). It runs for one term at a time: its token is cancelled the moment this
/// member stops leading, so a coordinator cut off in a minority, or paused past an election,
/// acts on nothing; when it leads again it starts afresh from the committed state.
/// </summary>
public abstract class LeaderService(IControlLog log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            CancellationToken leadership;
            try
            {
                leadership = await log.WaitForLeadershipAsync(stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            using var term = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, leadership);
            try
            {
                await LeadAsync(term.Token);
                // Done for this term (or for good with a single coordinator, whose term never ends).
                await Task.Delay(Timeout.Infinite, term.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or NotLeaderException)
            {
            }
            finally
            {
                if (!stoppingToken.IsCancellationRequested)
                {
                    OnLeadershipLost();
                }
            }
        }
    }

    /// <summary>Runs while this member leads; <paramref name="leadership"/> is cancelled when it stops.</summary>
    protected abstract Task LeadAsync(CancellationToken leadership);

    /// <summary>Drops what only a leader may hold (running transfers, queued changes).</summary>
    protected virtual void OnLeadershipLost()
    {
    }
}
