using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RingKv.Node.Tests.Support;

namespace RingKv.Node.Tests.Api;

public sealed class MemoryNodeFixture : IAsyncLifetime
{
    public NodeServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await NodeServer.StartAsync("memory");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class RocksDbNodeFixture : IAsyncLifetime
{
    public NodeServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await NodeServer.StartAsync("rocksdb");

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class MemoryKvApiTests(MemoryNodeFixture fixture) : KvApiContract(fixture.Server), IClassFixture<MemoryNodeFixture>;

public sealed class RocksDbKvApiTests(RocksDbNodeFixture fixture) : KvApiContract(fixture.Server), IClassFixture<RocksDbNodeFixture>;

/// <summary>The v1 API contract (docs/API.md), run against a real Kestrel node on each engine.</summary>
public abstract class KvApiContract(NodeServer server)
{
    private readonly HttpClient _http = server.Client;

    private static string NewKey(string prefix = "k") => prefix + "/" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task PutThenGetReturnsTheSameBytesContentTypeAndETag()
    {
        var key = NewKey("users");
        var bytes = new byte[] { 0, 1, 2, 255, 254, 10, 13 };
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/x-test");
        using var put = await _http.PutAsync("/v1/kv/" + key, content);
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        var etag = put.Headers.ETag?.Tag;
        Assert.NotNull(etag);

        using var get = await _http.GetAsync("/v1/kv/" + key);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(bytes, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/x-test", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(etag, get.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task BodyWithoutContentTypeIsStoredAsOctetStream()
    {
        var key = NewKey();
        using var content = new ByteArrayContent("hello"u8.ToArray());
        using var put = await _http.PutAsync("/v1/kv/" + key, content);
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        using var get = await _http.GetAsync("/v1/kv/" + key);
        Assert.Equal("application/octet-stream", get.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("{\"a\":[1,2,{\"b\":null}]}")]
    [InlineData("[1,\"two\",3.5]")]
    [InlineData("\"just a string\"")]
    [InlineData("42")]
    [InlineData("-1.5e10")]
    [InlineData("true")]
    [InlineData("false")]
    [InlineData("null")]
    public async Task AnyJsonDocumentIsAcceptedUnderAJsonContentType(string json)
    {
        var key = NewKey("json");
        using var put = await _http.PutAsync("/v1/kv/" + key, new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal(json, await _http.GetStringAsync("/v1/kv/" + key));
    }

    [Fact]
    public async Task StructuredJsonSuffixTypesAreValidatedToo()
    {
        using var put = await _http.PutAsync("/v1/kv/" + NewKey(), new StringContent("{broken", Encoding.UTF8, "application/problem+json"));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal("invalid-json", await ProblemTypeAsync(put));
    }

    [Fact]
    public async Task SlashesAndUnicodeAreOneOpaqueKey()
    {
        const string key = "users/42/profile/été-✓";
        using var put = await _http.PutAsync("/v1/kv/" + Uri.EscapeDataString(key).Replace("%2F", "/", StringComparison.Ordinal), new StringContent("x"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        using var encodedSlashes = await _http.GetAsync("/v1/kv/" + Uri.EscapeDataString(key));
        Assert.Equal(HttpStatusCode.OK, encodedSlashes.StatusCode);
        using var list = await _http.GetAsync("/v1/kv?prefix=" + Uri.EscapeDataString("users/42/"));
        Assert.Contains(key, await KeysAsync(list));
    }

    [Fact]
    public async Task MissingKeyIs404ProblemJson()
    {
        using var get = await _http.GetAsync("/v1/kv/" + NewKey());
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal("application/problem+json", get.Content.Headers.ContentType?.MediaType);
        Assert.Equal("not-found", await ProblemTypeAsync(get));
    }

    [Fact]
    public async Task HeadAnswersLikeGetWithoutABody()
    {
        var key = NewKey();
        await _http.PutAsync("/v1/kv/" + key, new StringContent("12345"));
        using var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v1/kv/" + key));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(5, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
        using var missing = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v1/kv/" + NewKey()));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task DeleteIsIdempotentAndHidesTheKey()
    {
        var key = NewKey();
        await _http.PutAsync("/v1/kv/" + key, new StringContent("v"));
        using var first = await _http.DeleteAsync("/v1/kv/" + key);
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        using var again = await _http.DeleteAsync("/v1/kv/" + key);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        using var never = await _http.DeleteAsync("/v1/kv/" + NewKey());
        Assert.Equal(HttpStatusCode.NoContent, never.StatusCode);
        using var get = await _http.GetAsync("/v1/kv/" + key);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Fact]
    public async Task IfMatchWritesOnlyOverTheGivenVersion()
    {
        var key = NewKey();
        using var put = await _http.PutAsync("/v1/kv/" + key, new StringContent("v1"));
        var etag = put.Headers.ETag!.Tag;

        using var wrong = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = new StringContent("v2") };
        wrong.Headers.TryAddWithoutValidation("If-Match", "\"0000000000000001-00000001\"");
        using var wrongResponse = await _http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.PreconditionFailed, wrongResponse.StatusCode);
        Assert.Equal("precondition-failed", await ProblemTypeAsync(wrongResponse));

        using var right = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = new StringContent("v2") };
        right.Headers.TryAddWithoutValidation("If-Match", etag);
        using var rightResponse = await _http.SendAsync(right);
        Assert.Equal(HttpStatusCode.NoContent, rightResponse.StatusCode);
        Assert.Equal("v2", await _http.GetStringAsync("/v1/kv/" + key));

        using var staleDelete = new HttpRequestMessage(HttpMethod.Delete, "/v1/kv/" + key);
        staleDelete.Headers.TryAddWithoutValidation("If-Match", etag);
        using var staleDeleteResponse = await _http.SendAsync(staleDelete);
        Assert.Equal(HttpStatusCode.PreconditionFailed, staleDeleteResponse.StatusCode);
        Assert.Equal("v2", await _http.GetStringAsync("/v1/kv/" + key));
    }

    [Fact]
    public async Task IfNoneMatchStarWritesOnlyAbsentKeys()
    {
        var key = NewKey();
        using var create = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = new StringContent("first") };
        create.Headers.TryAddWithoutValidation("If-None-Match", "*");
        Assert.Equal(HttpStatusCode.NoContent, (await _http.SendAsync(create)).StatusCode);

        using var again = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = new StringContent("second") };
        again.Headers.TryAddWithoutValidation("If-None-Match", "*");
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await _http.SendAsync(again)).StatusCode);
        Assert.Equal("first", await _http.GetStringAsync("/v1/kv/" + key));
    }

    [Fact]
    public async Task TtlExpiresTheKey()
    {
        var key = NewKey();
        // Three seconds: long enough to read it back first on a busy machine, short enough to wait for.
        using var put = await _http.PutAsync("/v1/kv/" + key + "?ttl=3", new StringContent("short-lived"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        using var soon = await _http.GetAsync("/v1/kv/" + key);
        Assert.Equal(HttpStatusCode.OK, soon.StatusCode);
        Assert.True(soon.Headers.Contains("X-RingKV-Expires-At"));
        await Eventually.WaitUntilAsync(async () =>
        {
            using var get = await _http.GetAsync("/v1/kv/" + key);
            return get.StatusCode == HttpStatusCode.NotFound;
        }, TimeSpan.FromSeconds(15), () => $"key {key} written with ?ttl=3 was still readable");
    }

    [Fact]
    public async Task ListPagesThroughEveryKeyOfAPrefixExactlyOnce()
    {
        var prefix = "list-" + Guid.NewGuid().ToString("N") + "/";
        var written = Enumerable.Range(0, 25).Select(i => prefix + i).ToHashSet();
        foreach (var key in written)
        {
            await _http.PutAsync("/v1/kv/" + key, new StringContent("v"));
        }
        await _http.DeleteAsync("/v1/kv/" + prefix + "0");
        written.Remove(prefix + "0");

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var url = "/v1/kv?prefix=" + Uri.EscapeDataString(prefix) + "&limit=7" + (cursor is null ? string.Empty : "&cursor=" + Uri.EscapeDataString(cursor));
            using var response = await _http.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var keys = json.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!).ToList();
            Assert.True(keys.Count <= 7);
            seen.AddRange(keys);
            cursor = json.RootElement.GetProperty("cursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 100);
        Assert.Equal(written.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task HealthEndpointsAnswer()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/health/ready")).StatusCode);
    }

    [Fact]
    public async Task ConcurrentWritersOfOneKeyLeaveOneOfTheirValues()
    {
        var key = NewKey();
        var values = Enumerable.Range(0, 32).Select(i => "value-" + i).ToArray();
        await Task.WhenAll(values.Select(v => _http.PutAsync("/v1/kv/" + key, new StringContent(v))));
        Assert.Contains(await _http.GetStringAsync("/v1/kv/" + key), values);
    }

    private static async Task<string?> ProblemTypeAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("type").GetString();
    }

    private static async Task<List<string>> KeysAsync(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString()!).ToList();
    }
}
