using System.Net;
using System.Text;
using RingKv.Node.Tests.Support;
using RingKv.Testing;

namespace RingKv.Node.Tests.Api;

/// <summary>
/// The bad-input table: each request gets the right 4xx (never a 5xx), stores nothing, and the
/// node serves a normal write and read right after it. Sent over a raw socket so nothing
/// normalises the request on the way.
/// </summary>
public sealed class BadInputTests(RocksDbNodeFixture fixture) : IClassFixture<RocksDbNodeFixture>
{
    private readonly NodeServer _server = fixture.Server;

    public static TheoryData<string, string, int> BadTargets => new()
    {
        // method, raw request target, expected status
        { "PUT", "/v1/kv/", 400 },
        { "PUT", "/v1/kv/" + new string('k', 1025), 400 },
        { "PUT", "/v1/kv/a%00b", 400 },
        { "PUT", "/v1/kv/a%01b", 400 },
        { "PUT", "/v1/kv/a%1Fb", 400 },
        { "PUT", "/v1/kv/a%7Fb", 400 },
        { "PUT", "/v1/kv/bad%FFutf8", 400 },
        { "PUT", "/v1/kv/bad%C3%28utf8", 400 },
        { "PUT", "/v1/kv/bad%G1", 400 },
        { "PUT", "/v1/kv/bad%", 400 },
        { "PUT", "/v1/kv/bad%2", 400 },
        { "PUT", "/v1/kv/%252e%252e%252fetc", 400 },
        { "PUT", "/v1/kv/../etc/passwd", 400 },
        { "PUT", "/v1/kv/a/../b", 400 },
        { "PUT", "/v1/kv/..%2Fetc", 400 },
        { "PUT", "/v1/kv/%2e%2e/etc", 400 },
        { "PUT", "/v1/kv/..%5Cetc", 400 },
        { "PUT", "/v1/kv/./x", 400 },
        { "PUT", "/v1/kv/ok?ttl=-1", 400 },
        { "PUT", "/v1/kv/ok?ttl=0", 400 },
        { "PUT", "/v1/kv/ok?ttl=abc", 400 },
        { "PUT", "/v1/kv/ok?ttl=", 400 },
        { "PUT", "/v1/kv/ok?tll=60", 400 },
        { "GET", "/v1/kv?limit=-1", 400 },
        { "GET", "/v1/kv?limit=0", 400 },
        { "GET", "/v1/kv?limit=abc", 400 },
        { "GET", "/v1/kv?limit=1001", 400 },
        { "GET", "/v1/kv?cursor=!!notbase64!!", 400 },
        { "PATCH", "/v1/kv/ok", 405 },
        { "POST", "/v1/kv/ok", 405 },
        { "BREW", "/v1/kv/ok", 405 },
        { "DELETE", "/v1/kv", 400 },
        { "PUT", "/v1/kv", 400 },
    };

    [Theory]
    [MemberData(nameof(BadTargets))]
    public async Task BadTargetGetsA4xxAndTheNodeKeepsServing(string method, string target, int expected)
    {
        var body = Encoding.UTF8.GetBytes("value");
        var response = await SendAsync(method, target, "application/octet-stream", body);
        Assert.True(response.Status == expected, $"{method} {target}: expected {expected}, got {response.Status}: {response.Body}");
        // Kestrel refuses a few requests itself (a NUL in the target) before any application code
        // runs, with an empty body; everything the node answers is problem+json.
        Assert.True(response.Head.Contains("application/problem+json", StringComparison.OrdinalIgnoreCase) || response.Head.Contains("Content-Length: 0", StringComparison.OrdinalIgnoreCase), response.Head);
        if (target.StartsWith("/v1/kv/ok", StringComparison.Ordinal))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/v1/kv/ok")).StatusCode);
        }
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task KeyOfExactlyTheLimitIsAccepted()
    {
        var key = new string('k', _server.Options.MaxKeyBytes);
        Assert.Equal(204, (await SendAsync("PUT", "/v1/kv/" + key, "text/plain", "v"u8.ToArray())).Status);
        Assert.Equal(200, (await SendAsync("GET", "/v1/kv/" + key, null, null)).Status);
    }

    [Fact]
    public async Task BodyOneByteOverTheLimitIs413AndNothingIsStored()
    {
        var key = "too-big-" + Guid.NewGuid().ToString("N");
        var body = new byte[_server.Options.MaxValueBytes + 1];
        var response = await SendAsync("PUT", "/v1/kv/" + key, "application/octet-stream", body);
        Assert.Equal(413, response.Status);
        Assert.Contains("value-too-large", response.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/v1/kv/" + key)).StatusCode);
        var exact = await SendAsync("PUT", "/v1/kv/" + key, "application/octet-stream", new byte[_server.Options.MaxValueBytes]);
        Assert.Equal(204, exact.Status);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task BodyClaiming100MegabytesIsRefusedFromItsHeader()
    {
        var key = "claims-100mb-" + Guid.NewGuid().ToString("N");
        var head = $"PUT /v1/kv/{key} HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\nContent-Length: 104857600\r\n\r\n";
        var response = await RawHttp.SendAsync(_server.BaseAddress, head, "only a few bytes"u8.ToArray());
        Assert.Equal(413, response.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/v1/kv/" + key)).StatusCode);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimitIsCountedAndRefused()
    {
        var key = "chunked-" + Guid.NewGuid().ToString("N");
        var chunk = new byte[64 * 1024];
        var body = new MemoryStream();
        var chunks = (_server.Options.MaxValueBytes / chunk.Length) + 2;
        for (var i = 0; i < chunks; i++)
        {
            body.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
            body.Write(chunk);
            body.Write("\r\n"u8);
        }
        body.Write("0\r\n\r\n"u8);
        var head = $"PUT /v1/kv/{key} HTTP/1.1\r\nHost: test\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
        var response = await RawHttp.SendAsync(_server.BaseAddress, head, body.ToArray());
        Assert.Equal(413, response.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/v1/kv/" + key)).StatusCode);
        await AssertStillServesAsync();
    }

    public static TheoryData<string, string> BadJson => new()
    {
        { "application/json", "{\"a\": }" },
        { "application/json", "{\"truncated\": [1, 2" },
        { "application/json", "" },
        { "application/json", "{} {}" },
        { "application/json", "{'single': 'quotes'}" },
        { "application/json; charset=utf-8", "nul" },
        { "application/vnd.api+json", "[1,]" },
        { "application/json", new string('[', 10_000) + new string(']', 10_000) },
    };

    [Theory]
    [MemberData(nameof(BadJson))]
    public async Task InvalidJsonUnderAJsonContentTypeIs400(string contentType, string json)
    {
        var key = "json-" + Guid.NewGuid().ToString("N");
        var response = await SendAsync("PUT", "/v1/kv/" + key, contentType, Encoding.UTF8.GetBytes(json));
        Assert.Equal(400, response.Status);
        Assert.Contains("invalid-json", response.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/v1/kv/" + key)).StatusCode);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task MalformedIfMatchIs400()
    {
        var response = await SendAsync("PUT", "/v1/kv/ok", "text/plain", "v"u8.ToArray(), "If-Match: not-a-version\r\n");
        Assert.Equal(400, response.Status);
        await AssertStillServesAsync();
    }

    private Task<RawHttp.Response> SendAsync(string method, string target, string? contentType, byte[]? body, string extraHeaders = "")
    {
        var head = new StringBuilder($"{method} {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
        if (contentType is not null)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        }
        if (body is not null)
        {
            head.Append("Content-Length: ").Append(body.Length).Append("\r\n");
        }
        head.Append(extraHeaders).Append("\r\n");
        return RawHttp.SendAsync(_server.BaseAddress, head.ToString(), body);
    }

    private async Task AssertStillServesAsync()
    {
        var key = "after-" + Guid.NewGuid().ToString("N");
        using var put = await _server.Client.PutAsync("/v1/kv/" + key, new StringContent("fine"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("fine", await _server.Client.GetStringAsync("/v1/kv/" + key));
    }
}
