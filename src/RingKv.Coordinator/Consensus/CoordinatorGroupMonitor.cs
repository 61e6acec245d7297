using System.Net.Http.Json;
using Microsoft.Extensions.Hosting;
using RingKv.Node.Security;
using RingKv.Node.Security.Tls;

namespace RingKv.Coordinator.Consensus;

/// <summary>
/// Asks every other member of the group for its role and term once a second, so any member can
/// tell operators who leads, who follows and who is unreachable; and finds a single coordinator's
/// state on another member when a group is formed from an upgraded data directory.
/// </summary>
public sealed class CoordinatorGroupMonitor(RaftControlLog log, ClusterSecret secret, ClusterTls tls, TimeProvider time) : BackgroundService
{
    private readonly HttpClient _http = new(secret.Handler(tls.Apply(new SocketsHttpHandler()))) { Timeout = TimeSpan.FromMilliseconds(800) };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            do
            {
                await Task.WhenAll(log.Peers.Where(p => p.Id != log.MemberId).Select(p => AskAsync(p, stoppingToken)));
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AskAsync(CoordinatorPeer peer, CancellationToken stoppingToken)
    {
        try
        {
            var role = await _http.GetFromJsonAsync(new Uri(peer.Url, "internal/v1/coordinator"), CoordinatorGroupJsonContext.Default.MemberRole, stoppingToken);
            if (role is not null)
            {
                log.RecordContact(peer.Id, role.Role, role.Term, time.GetUtcNow());
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !stoppingToken.IsCancellationRequested)
        {
            // Unreachable: its last contact ages until it answers again.
        }
    }

    /// <summary>
    /// A single coordinator's state held by another member, the newest if several; null when every
    /// member answered that it has none. Throws while some member cannot be asked: a new group
    /// must not start empty when a member it cannot reach may hold the cluster.
    /// </summary>
    public async Task<ControlState?> FindLegacyStateAsync(CancellationToken cancellationToken)
    {
        ControlState? newest = null;
        foreach (var peer in log.Peers.Where(p => p.Id != log.MemberId))
        {
            using var response = await _http.GetAsync(new Uri(peer.Url, "internal/v1/coordinator/legacy-state"), cancellationToken);
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                continue;
            }
            response.EnsureSuccessStatusCode();
            var state = ControlState.FromJson(await response.Content.ReadAsByteArrayAsync(cancellationToken));
            if (newest is null || state.Map.Epoch > newest.Map.Epoch)
            {
                newest = state;
            }
        }
        return newest;
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
