using System.Net;
using System.Text.Json;
using RingKv.Core.Cluster;
using RingKv.Node.Security.Tls;

namespace RingKv.Coordinator.Observability;

/// <summary>A replica's own copy of a key as its /v1/local answered, or why it could not say.</summary>
public sealed record ReplicaCopy(bool? Present, string? Version, bool Deleted, string? ExpiresAt, string? Error);

/// <summary>
/// The coordinator reading nodes' client ports on an operator's behalf, for what a browser on the
/// coordinator's origin cannot fetch itself: their /metrics (client traffic) and their own copy of
/// a key. Short deadlines: a node that does not answer is reported as unreachable, never waited for.
/// </summary>
public sealed class NodeReads(ClusterTls tls) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1.5);

    // With TLS, nodes' client ports are https and their certificates must chain to the cluster's authority.
    private readonly HttpClient _http = new(tls.Apply(new SocketsHttpHandler
    {
        ConnectTimeout = Deadline,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        MaxConnectionsPerServer = 4,
        UseCookies = false,
    }))
    { Timeout = Deadline };

    /// <summary>Every member that is not dead, scraped at once; dead ones are listed without a call.</summary>
    public async Task<IReadOnlyList<NodeTraffic>> TrafficAsync(ClusterMap map, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(map);
        var members = map.Members.OrderBy(m => m.Number).ToList();
        return await Task.WhenAll(members.Select(m => ScrapeAsync(m, cancellationToken)));
    }

    private async Task<NodeTraffic> ScrapeAsync(ClusterMember member, CancellationToken cancellationToken)
    {
        var state = member.State.ToString().ToLowerInvariant();
        if (member.State == MemberState.Dead)
        {
            return NodeTraffic.Unreachable(member.Id, state, "dead: not asked");
        }
        try
        {
            var text = await _http.GetStringAsync(new Uri(new Uri(member.ClientUrl), "/metrics"), cancellationToken);
            return NodeTraffic.FromSamples(member.Id, state, PrometheusText.Parse(text));
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return NodeTraffic.Unreachable(member.Id, state, Describe(ex));
        }
    }

    /// <summary>
    /// The replica's own copy through its <c>/v1/local/kv/{key}</c>, sent with the caller's own
    /// Authorization header: with authentication on, a node answers it for admin tokens only, so
    /// the coordinator never shows anyone a copy they could not read from the node themselves.
    /// </summary>
    public async Task<ReplicaCopy> LocalCopyAsync(ClusterMember member, string encodedKey, string? authorization, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(member);
        using var request = new HttpRequestMessage(HttpMethod.Get, member.ClientUrl.TrimEnd('/') + "/v1/local/kv/" + encodedKey);
        if (!string.IsNullOrEmpty(authorization))
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return new ReplicaCopy(false, null, false, null, null);
            }
            if (!response.IsSuccessStatusCode)
            {
                return new ReplicaCopy(null, null, false, null, $"the node answered {(int)response.StatusCode}");
            }
            using var document = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            var root = document.RootElement;
            return new ReplicaCopy(
                true,
                root.GetProperty("version").GetString(),
                root.TryGetProperty("deleted", out var deleted) && deleted.GetBoolean(),
                root.TryGetProperty("expiresAt", out var expires) ? expires.GetString() : null,
                null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException or InvalidOperationException && !cancellationToken.IsCancellationRequested)
        {
            return new ReplicaCopy(null, null, false, null, Describe(ex));
        }
    }

    private static string Describe(Exception ex) => ex is TaskCanceledException
        ? $"no answer within {Deadline.TotalSeconds:0.#} s"
        : "unreachable: " + ex.Message;

    public void Dispose() => _http.Dispose();
}
