using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using RingKv.Node.Hosting;
using RingKv.Node.Security.Tls;
using RingKv.Node.Tests.Support;
using RingKv.Testing;

namespace RingKv.Node.Tests.Security;

/// <summary>A standalone node with a certificate: https only, and the TLS options checked at start.</summary>
public sealed class TlsNodeTests : IAsyncLifetime
{
    private readonly TempFolder _directory = new();
    private TlsFiles _files = null!;
    private NodeServer _server = null!;

    public async Task InitializeAsync()
    {
        _files = LocalAuthority.Ensure(_directory.Path, IPAddress.Loopback, TimeProvider.System);
        _server = await NodeServer.StartAsync(configure: o =>
        {
            o.TlsCertificateFile = _files.CertificateFile;
            o.TlsKeyFile = _files.KeyFile;
        });
    }

    [Fact]
    public async Task ServesTheApiOverHttpsToAClientTrustingItsAuthority()
    {
        Assert.Equal(Uri.UriSchemeHttps, _server.BaseAddress.Scheme);
        var trust = AuthorityTrust.Load(_files.AuthorityFile);
        using var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, c, chain, errors) => trust.ValidateServer(c, chain, errors) },
        };
        using var client = new HttpClient(handler) { BaseAddress = _server.BaseAddress };

        using var put = await client.PutAsync("/v1/kv/tls/k", new StringContent("v"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("v", await client.GetStringAsync("/v1/kv/tls/k"));
        Assert.Equal("live", (await client.GetFromJsonAsync<System.Text.Json.JsonElement>("/health/live")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task MembersHandlerTrustsTheClusterAuthorityAndRefusesAServerCertifiedByAnother()
    {
        using var otherDirectory = new TempFolder();
        var other = LocalAuthority.Ensure(otherDirectory.Path, IPAddress.Loopback, TimeProvider.System);
        // What the gRPC replica transport, the membership agent, the gateway and transfers build their connections with.
        using var member = new HttpClient(ClusterTls.Load(_files.CertificateFile, _files.KeyFile, _files.AuthorityFile).Apply(new SocketsHttpHandler()));
        using var stranger = new HttpClient(ClusterTls.Load(other.CertificateFile, other.KeyFile, other.AuthorityFile).Apply(new SocketsHttpHandler()));
        var live = new Uri(_server.BaseAddress, "/health/live");

        using var trusted = await member.GetAsync(live);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => stranger.GetAsync(live));

        Assert.Equal(HttpStatusCode.OK, trusted.StatusCode);
        Assert.IsType<System.Security.Authentication.AuthenticationException>(refused.InnerException);
    }

    [Fact]
    public async Task PlainHttpGetsNoAnswerAndNoServerError()
    {
        var plain = new UriBuilder(_server.BaseAddress) { Scheme = Uri.UriSchemeHttp }.Uri;

        var refused = await Record.ExceptionAsync(() => RawHttp.SendAsync(plain, "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));

        // The handshake fails and the connection is closed: no HTTP response at all (so no 5xx).
        Assert.IsType<InvalidOperationException>(refused);
        Assert.EndsWith("got: ", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false, false, null)]
    [InlineData(false, true, false, null)]
    [InlineData(false, false, true, null)]
    [InlineData(true, true, false, "https://127.0.0.1:7000")]
    [InlineData(true, true, true, "http://127.0.0.1:7000")]
    public void RefusesIncompleteTlsSettingsAtStart(bool certificate, bool key, bool authority, string? join)
    {
        var options = new NodeOptions
        {
            TlsCertificateFile = certificate ? "node.crt" : null,
            TlsKeyFile = key ? "node.key" : null,
            TlsAuthorityFile = authority ? "ca.crt" : null,
            Join = join,
        };

        Assert.Throws<ArgumentException>(options.Validate);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _directory.Dispose();
    }
}
