using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using RingKv.Node.Hosting;
using RingKv.Node.Security;
using RingKv.Node.Tests.Support;

namespace RingKv.Node.Tests.Api;

/// <summary>Client authentication: bearer tokens with roles, stored hashed, refused in the query string; protected mode without it.</summary>
public sealed class AuthTests : IAsyncLifetime
{
    private readonly string _authFile = Path.Combine(Path.GetTempPath(), "ringkv-auth-" + Guid.NewGuid().ToString("N") + ".json");
    private NodeServer _server = null!;
    private string _read = null!;
    private string _write = null!;
    private string _admin = null!;

    public async Task InitializeAsync()
    {
        var read = TokenStore.Create("reader", Role.Read);
        var write = TokenStore.Create("writer", Role.Write);
        var admin = TokenStore.Create("admin", Role.Admin);
        (_read, _write, _admin) = (read.Token, write.Token, admin.Token);
        TokenStore.Write(_authFile, [read.Record, write.Record, admin.Record]);
        _server = await NodeServer.StartAsync("memory", options => options.AuthFile = _authFile);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        File.Delete(_authFile);
    }

    [Fact]
    public async Task TheAuthFileHoldsOnlyHashesAndOnlyItsOwnerCanReadIt()
    {
        var text = await File.ReadAllTextAsync(_authFile);
        Assert.DoesNotContain(_admin, text, StringComparison.Ordinal);
        Assert.Contains(TokenStore.Hash(_admin), text, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_authFile));
        }
        Assert.True(_admin.Length >= 40, "a token carries at least 128 bits");
    }

    [Theory]
    [InlineData(null, "GET", "/v1/kv/k", 401)]
    [InlineData("bogus", "GET", "/v1/kv/k", 401)]
    [InlineData("read", "GET", "/v1/kv/missing", 404)]
    [InlineData("read", "GET", "/v1/kv", 200)]
    [InlineData("read", "PUT", "/v1/kv/k", 403)]
    [InlineData("read", "DELETE", "/v1/kv/k", 403)]
    [InlineData("write", "PUT", "/v1/kv/k", 204)]
    [InlineData("write", "DELETE", "/v1/kv/k", 204)]
    [InlineData("write", "GET", "/v1/local/kv/k", 403)]
    [InlineData("admin", "GET", "/v1/local/kv/missing", 404)]
    [InlineData("admin", "PUT", "/v1/kv/k", 204)]
    [InlineData("write", "GET", "/v1/admin/backup/range?first=0000000000000000&last=ffffffffffffffff", 403)]
    [InlineData("admin", "GET", "/v1/admin/backup/range?first=0000000000000000&last=ffffffffffffffff", 200)]
    [InlineData("write", "POST", "/v1/admin/restore", 403)]
    [InlineData(null, "GET", "/health/live", 200)]
    public async Task EachRoleGetsWhatItMayAndNothingMore(string? who, string method, string path, int expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "PUT")
        {
            request.Content = new StringContent("v");
        }
        var token = who switch { "read" => _read, "write" => _write, "admin" => _admin, null => null, var other => other };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await _server.Client.SendAsync(request);
        Assert.Equal(expected, (int)response.StatusCode);
        if (expected is 401 or 403)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(expected == 401 ? "unauthorized" : "forbidden", problem.RootElement.GetProperty("type").GetString());
        }
    }

    [Fact]
    public async Task TheOpenApiDocumentIsServedWithoutATokenWhileTheApiItDescribesNeedsOne()
    {
        using var document = await _server.Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Contains("\"/v1/kv/{key}\"", await document.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var list = await _server.Client.GetAsync("/v1/kv");
        Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
    }

    [Fact]
    public async Task ATokenInTheQueryStringIsNeverAccepted()
    {
        using var response = await _server.Client.GetAsync("/v1/kv?access_token=" + Uri.EscapeDataString(_admin));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ARejectedWriteChangesNothing()
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/guarded") { Content = new StringContent("first") };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _write);
        Assert.Equal(HttpStatusCode.NoContent, (await _server.Client.SendAsync(put)).StatusCode);
        using var sneaky = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/guarded") { Content = new StringContent("second") };
        sneaky.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _read);
        Assert.Equal(HttpStatusCode.Forbidden, (await _server.Client.SendAsync(sneaky)).StatusCode);
        using var get = new HttpRequestMessage(HttpMethod.Get, "/v1/kv/guarded");
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _read);
        Assert.Equal("first", await (await _server.Client.SendAsync(get)).Content.ReadAsStringAsync());
    }

    [Fact]
    public void WithoutAuthenticationANonLoopbackAddressIsRefusedAtStartUp()
    {
        var error = Assert.Throws<ArgumentException>(() => NodeHost.Build(new NodeOptions { Port = 0, Engine = "memory", BindAddress = "0.0.0.0" }));
        Assert.Contains("--auth-file", error.Message, StringComparison.Ordinal);
    }
}
