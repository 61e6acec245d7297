using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Security;
using RingKv.Testing;

namespace RingKv.Cluster.Tests.Hostile;

/// <summary>
/// The audit log says who did what and when (cluster changes, refused credentials), and no log of
/// any process ever shows a token, the cluster secret or a value.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class AuditLogTests(HostileCluster cluster)
{
    [Fact]
    public async Task RefusalsAndChangesAreAuditedWithoutTokensSecretsOrValues()
    {
        var value = "known-value-" + Guid.NewGuid().ToString("N");
        var badToken = "rk_known-bad-token-" + Guid.NewGuid().ToString("N");
        var wrongSecret = "wrong-secret-" + Guid.NewGuid().ToString("N");
        var key = "hostile/audited";
        cluster.Track(key);
        foreach (var url in new[] { cluster.NodeUrl, cluster.CoordinatorUrl })
        {
            Assert.Equal(HttpStatusCode.NoContent, await SendAsync(HttpMethod.Put, url, "/v1/kv/" + key, cluster.AdminToken, value));
            Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Get, url, "/v1/kv/" + key, cluster.ReaderToken));
            Assert.Equal(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Put, url, "/v1/kv/" + key, badToken, value));
            Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Put, url, "/v1/kv/" + key, cluster.ReaderToken, value));
            Assert.Equal(HttpStatusCode.BadRequest, await SendAsync(HttpMethod.Put, url, "/v1/kv/" + key, cluster.WriterToken, "{\"v\": \"" + value, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, await SendAsync(HttpMethod.Put, url, "/v1/kv/" + key + "?w=0", cluster.WriterToken, value));
        }
        using (var join = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.CoordinatorUrl, "/internal/v1/join")) { Content = new StringContent("{}", Encoding.UTF8, "application/json") })
        {
            join.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, wrongSecret);
            using var response = await cluster.Http.SendAsync(join);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        using (var channel = GrpcChannel.ForAddress(cluster.InternodeUrl))
        {
            var client = new RingKv.Node.Internode.Protocol.Internode.InternodeClient(channel);
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
                await client.ReadAsync(new ReadRequest { Keys = { key } }, new Metadata { { ClusterSecret.HeaderName, wrongSecret } }));
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        }
        Assert.Equal((HttpStatusCode.OK, value), await cluster.GetAsync(cluster.CoordinatorUrl, key));

        // Who, what, when: the refused token by its fingerprint, the caller's address, an ISO 8601 UTC time.
        var fingerprint = TokenStore.Fingerprint(badToken);
        var node = cluster.Cluster.Nodes[0].Process!;
        await Eventually.WaitUntilAsync(() =>
            Output(cluster.Cluster.Coordinator).Contains($"action=authentication-failed who=token {fingerprint} from 127.0.0.1", StringComparison.Ordinal) &&
            Output(node).Contains($"action=authentication-failed who=token {fingerprint} from 127.0.0.1", StringComparison.Ordinal) &&
            Output(node).Contains("action=forbidden who=token 'hostile-reader'", StringComparison.Ordinal) &&
            Output(cluster.Cluster.Coordinator).Contains("action=cluster-secret-refused who=remote 127.0.0.1: control-plane POST /internal/v1/join: wrong secret", StringComparison.Ordinal) &&
            Output(node).Contains("action=cluster-secret-refused who=remote 127.0.0.1: internode POST /ringkv.internode.v1.Internode/Read: wrong secret", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), () => "audit lines missing. " + cluster.Cluster.Coordinator.Describe() + "\n" + node.Describe());
        var coordinator = Output(cluster.Cluster.Coordinator);
        Assert.Matches(@"RingKv\.Audit.*audit at=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00 action=member-admitted who=member process \d+ from 127\.0\.0\.1: n2 as joining", coordinator);
        Assert.Matches(@"audit at=\S+ action=transfer-started who=coordinator: \S+ to n3", coordinator);

        string[] secrets = [cluster.AdminToken, cluster.WriterToken, cluster.ReaderToken, badToken, cluster.Secret, wrongSecret, value];
        foreach (var process in cluster.Processes)
        {
            var output = Output(process);
            foreach (var secret in secrets)
            {
                Assert.False(output.Contains(secret, StringComparison.Ordinal), $"pid {process.Id} logged a token, the secret or a value ({secret[..12]}...). {process.Describe()}");
            }
        }
    }

    private static string Output(RingKvProcess process) => process.StandardOutput + process.StandardError;

    private async Task<HttpStatusCode> SendAsync(HttpMethod method, Uri url, string path, string token, string? body = null, string contentType = "text/plain")
    {
        using var request = new HttpRequestMessage(method, new Uri(url, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType);
        }
        // The harness's client carries the admin token by default; this request carries only its own.
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }
}
