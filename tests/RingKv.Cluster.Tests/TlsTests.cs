using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using RingKv.Client;
using RingKv.Cluster.Tests.Harness;
using RingKv.Node.Security;
using RingKv.Node.Security.Tls;
using RingKv.Testing;

namespace RingKv.Cluster.Tests;

/// <summary>One TLS cluster (3 nodes, RF 3, cluster secret) shared by the TLS tests; its authority, and a second one no member trusts.</summary>
public sealed class TlsClusterFixture : IAsyncLifetime
{
    private readonly TempDirectory _strangerDirectory = new("tls-stranger");

    public TestCluster Cluster { get; private set; } = null!;

    /// <summary>Certificate files from another authority, naming the same addresses as the cluster's.</summary>
    public TlsFiles Stranger { get; private set; } = null!;

    public string StrangerDirectory => _strangerDirectory.Path;

    public async Task InitializeAsync()
    {
        Stranger = LocalAuthority.Ensure(_strangerDirectory.Path, IPAddress.Loopback, TimeProvider.System);
        Cluster = await TestCluster.StartWithTlsAsync(3);
    }

    public async Task DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }
        _strangerDirectory.Dispose();
    }
}

/// <summary>TLS end to end (the security issue): https for clients and members, the cluster's authority and nothing else trusted.</summary>
public sealed class TlsTests(TlsClusterFixture fixture) : IClassFixture<TlsClusterFixture>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private TestCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task PutGetAndDeleteWorkOverHttpsThroughTheGatewayAndEveryNodeWithCopiesReplicatedOverMutualTls()
    {
        Assert.Equal(Uri.UriSchemeHttps, Cluster.CoordinatorUrl.Scheme);
        var members = (await Cluster.ClusterAsync(Cluster.CoordinatorUrl)).GetProperty("nodes").EnumerateArray().ToList();
        Assert.All(members, m => Assert.StartsWith("https://127.0.0.1:", m.GetProperty("internodeUrl").GetString(), StringComparison.Ordinal));
        Assert.All(members, m => Assert.StartsWith("https://127.0.0.1:", m.GetProperty("clientUrl").GetString(), StringComparison.Ordinal));

        using var gateway = new RingKvClient(Cluster.CoordinatorUrl, null, Cluster.Tls!.AuthorityFile);
        await gateway.PutAsync("tls/greeting", "hello over tls");
        foreach (var node in Cluster.Nodes)
        {
            using var client = new RingKvClient(node.Url, null, Cluster.Tls.AuthorityFile);
            var entry = await client.GetAsync("tls/greeting");
            Assert.Equal("hello over tls", entry is null ? null : Encoding.UTF8.GetString(entry.Value));
        }
        // Every replica has its own copy: the writes went node to node over the internode port.
        await Eventually.WaitUntilAsync(
            async () => (await Task.WhenAll(Cluster.Nodes.Select(n => Cluster.LocalValueAsync(n, "tls/greeting")))).All(v => v == "hello over tls"),
            Deadline,
            () => "not every replica received the write over internode TLS");

        using (var first = new RingKvClient(Cluster.Nodes[0].Url, null, Cluster.Tls.AuthorityFile))
        {
            await first.DeleteAsync("tls/greeting");
        }
        Assert.Null(await gateway.GetAsync("tls/greeting"));
    }

    [Fact]
    public async Task PlainHttpToATlsListenerIsClosedWithoutA5xx()
    {
        foreach (var url in new[] { Cluster.CoordinatorUrl, Cluster.Nodes[0].Url, await InternodeUrlAsync() })
        {
            var answer = await SendPlainAsync(url, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.True(answer.Length == 0 || answer.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), $"{url} answered plain HTTP with: {answer}");
        }
    }

    [Fact]
    public async Task ClientsRefuseServersWhoseCertificateIsNotFromTheAuthorityTheyTrust()
    {
        using var otherAuthority = new HttpClient(TrustedAuthority.CreateHandler(fixture.Stranger.AuthorityFile));
        using var systemRoots = new HttpClient();
        foreach (var client in new[] { otherAuthority, systemRoots })
        {
            foreach (var url in new[] { Cluster.CoordinatorUrl, Cluster.Nodes[0].Url })
            {
                var refused = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(url, "/health/live")));
                Assert.IsType<AuthenticationException>(refused.InnerException);
            }
        }
        // The same request with the cluster's authority goes through: the refusals above are about trust.
        using var trusted = await Cluster.Http.GetAsync(new Uri(Cluster.Nodes[0].Url, "/health/live"));
        Assert.Equal(HttpStatusCode.OK, trusted.StatusCode);
    }

    [Fact]
    public async Task InternodePortServesOnlyClientsWithACertificateFromTheClusterAuthorityAndTheSecret()
    {
        var internode = await InternodeUrlAsync();
        var secret = await File.ReadAllTextAsync(Cluster.SecretFile!);

        // A member's certificate and the secret: the call reaches the gRPC service (its answer is a gRPC one, not a refusal).
        using (var response = await InternodeCallAsync(internode, Cluster.Tls!, secret))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(response.Headers.Contains("grpc-status") || response.TrailingHeaders.Contains("grpc-status"), response.ToString());
        }
        // A member's certificate without the secret: refused by the secret check.
        using (var response = await InternodeCallAsync(internode, Cluster.Tls!, secret: null))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        // The secret with a certificate from another authority, or with none: no connection at all.
        await Assert.ThrowsAsync<HttpRequestException>(() => InternodeCallAsync(internode, fixture.Stranger with { AuthorityFile = Cluster.Tls!.AuthorityFile }, secret));
        await Assert.ThrowsAsync<HttpRequestException>(() => InternodeCallAsync(internode, null, secret));
    }

    [Fact]
    public async Task NodeWithACertificateFromAnotherAuthorityCannotJoinEvenWithTheSecret()
    {
        using var data = new TempDirectory("tls-impostor");
        // It trusts the cluster's authority and holds the secret: only its own certificate is wrong.
        var impostor = Cluster.StartStranger(data.Path,
            "--cluster-secret-file", Cluster.SecretFile!,
            "--tls-cert", fixture.Stranger.CertificateFile, "--tls-key", fixture.Stranger.KeyFile, "--tls-ca", Cluster.Tls!.AuthorityFile);
        await impostor.WaitForUrlAsync(TimeSpan.FromSeconds(60));

        await Eventually.WaitUntilAsync(async () =>
        {
            var metrics = await Cluster.Http.GetStringAsync(new Uri(Cluster.CoordinatorUrl, "/metrics"));
            return metrics.Split('\n').Any(l => l.StartsWith("ringkv_security_rejected", StringComparison.Ordinal) && l.Contains("\"control-plane-certificate\"", StringComparison.Ordinal));
        }, Deadline, () => "the coordinator did not refuse the impostor's join for its certificate. " + impostor.Describe());
        // It is told why (its log says so), and it is not a member.
        await Eventually.WaitUntilAsync(
            () => impostor.StandardError.Contains("cluster-certificate-required", StringComparison.Ordinal),
            Deadline,
            () => "the impostor was not told why it was refused. " + impostor.Describe());
        Assert.Equal(3, (await Cluster.MemberStatesAsync()).Count);
    }

    private async Task<Uri> InternodeUrlAsync()
    {
        var members = (await Cluster.ClusterAsync(Cluster.CoordinatorUrl)).GetProperty("nodes").EnumerateArray();
        return new Uri(members.First().GetProperty("internodeUrl").GetString()!);
    }

    /// <summary>
    /// An HTTP/2 call to the internode Read method trusting the cluster's authority, showing the
    /// certificate of <paramref name="member"/> (null: none) and the secret (null: none).
    /// </summary>
    private async Task<HttpResponseMessage> InternodeCallAsync(Uri internode, TlsFiles? member, string? secret)
    {
        var handler = member is null
            ? TrustedAuthority.CreateHandler(Cluster.Tls!.AuthorityFile)
            : ClusterTls.Load(member.CertificateFile, member.KeyFile, member.AuthorityFile).Apply(new SocketsHttpHandler());
        using var http = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(internode, "/ringkv.internode.v1.Internode/Read"))
        {
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/grpc");
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        if (secret is not null)
        {
            request.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, secret.Trim());
        }
        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task<string> SendPlainAsync(Uri url, string requestHead)
    {
        using var cts = new CancellationTokenSource(Deadline);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(url.Host, url.Port, cts.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.Latin1.GetBytes(requestHead), cts.Token);
        var received = new MemoryStream();
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cts.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // A reset counts as closed.
        }
        return Encoding.Latin1.GetString(received.ToArray());
    }
}
