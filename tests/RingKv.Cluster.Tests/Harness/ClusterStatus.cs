using System.Text.Json;

namespace RingKv.Cluster.Tests.Harness;

/// <summary>Reads of <c>GET /v1/cluster</c> for tests that run their processes themselves (a coordinator group under <c>up</c>, or in namespaces).</summary>
public static class ClusterStatus
{
    /// <summary>The status document, or null while the member asked does not answer (killed, cut off, not listening yet).</summary>
    public static async Task<JsonElement?> TryGetAsync(HttpClient http, Uri member)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(member, "/v1/cluster"));
            return response.IsSuccessStatusCode ? JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }
}
