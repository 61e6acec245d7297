using System.Net;
using CsCheck;
using RingKv.Node.Api;
using RingKv.Node.Tests.Support;

namespace RingKv.Node.Tests.Api;

/// <summary>If-Match and If-None-Match as RFC 9110 section 13 defines them, on every method.</summary>
public sealed class ConditionalRequestTests(MemoryNodeFixture fixture) : IClassFixture<MemoryNodeFixture>
{
    private readonly HttpClient _http = fixture.Server.Client;

    private async Task<(string Key, string ETag)> ExistingAsync()
    {
        var key = "cond/" + Guid.NewGuid().ToString("N");
        using var put = await _http.PutAsync("/v1/kv/" + key, new StringContent("v1"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        return (key, put.Headers.ETag!.Tag);
    }

    private async Task<HttpStatusCode> SendAsync(HttpMethod method, string key, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, "/v1/kv/" + key);
        if (method == HttpMethod.Put)
        {
            request.Content = new StringContent("v2");
        }
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    [Fact]
    public async Task AWellFormedTagThatIsNotOursIsAFalseConditionNotAMalformedOne()
    {
        var (key, _) = await ExistingAsync();
        Assert.Equal(HttpStatusCode.PreconditionFailed, await SendAsync(HttpMethod.Put, key, ("If-Match", "\"abc\"")));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await SendAsync(HttpMethod.Delete, key, ("If-Match", "\"abc\"")));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await SendAsync(HttpMethod.Get, key, ("If-Match", "\"abc\"")));
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(HttpMethod.Put, key, ("If-None-Match", "\"abc\"")));
    }

    [Fact]
    public async Task IfMatchStarNeedsTheKeyToExist()
    {
        var (key, _) = await ExistingAsync();
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(HttpMethod.Put, key, ("If-Match", "*")));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await SendAsync(HttpMethod.Put, key + "-absent", ("If-Match", "*")));
    }

    [Fact]
    public async Task AListMatchesWhenAnyOfItsTagsIsTheCurrentVersionAndWeakTagsNeverMatchIfMatch()
    {
        var (key, etag) = await ExistingAsync();
        Assert.Equal(HttpStatusCode.PreconditionFailed, await SendAsync(HttpMethod.Put, key, ("If-Match", "W/" + etag)));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await SendAsync(HttpMethod.Put, key, ("If-Match", "\"x\", \"0000000000000001-00000001\"")));
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(HttpMethod.Put, key, ("If-Match", "\"x\", " + etag)));
    }

    [Fact]
    public async Task IfNoneMatchRefusesAWriteOverAListedVersionAndAnswersNotModifiedToAReadOfOne()
    {
        var (key, etag) = await ExistingAsync();
        Assert.Equal(HttpStatusCode.NotModified, await SendAsync(HttpMethod.Get, key, ("If-None-Match", "\"other\", W/" + etag)));
        Assert.Equal(HttpStatusCode.NotModified, await SendAsync(HttpMethod.Get, key, ("If-None-Match", "*")));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Get, key, ("If-None-Match", "\"other\"")));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(HttpMethod.Get, key, ("If-Match", etag)));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await SendAsync(HttpMethod.Put, key, ("If-None-Match", etag)));
        Assert.Equal(HttpStatusCode.PreconditionFailed, await SendAsync(HttpMethod.Delete, key, ("If-None-Match", "*")));
    }

    [Fact]
    public async Task BothHeadersAreEvaluatedIfMatchFirst()
    {
        var (key, etag) = await ExistingAsync();
        Assert.Equal(HttpStatusCode.PreconditionFailed, await SendAsync(HttpMethod.Put, key, ("If-Match", etag), ("If-None-Match", "*")));
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(HttpMethod.Put, key, ("If-Match", etag), ("If-None-Match", "\"other\"")));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("\"a b\"")]
    [InlineData("\"unterminated")]
    [InlineData("\"a\" \"b\"")]
    [InlineData("*, \"a\"")]
    public async Task TextThatIsNotEntityTagsIsABadRequest(string value)
    {
        var (key, _) = await ExistingAsync();
        Assert.Equal(HttpStatusCode.BadRequest, await SendAsync(HttpMethod.Put, key, ("If-Match", value)));
        Assert.Equal(HttpStatusCode.BadRequest, await SendAsync(HttpMethod.Put, key, ("If-None-Match", value)));
    }

    [Fact]
    public void AnyListOfEntityTagsParsesBackToItsTags()
    {
        var opaque = Gen.String[Gen.Char['!', '~'].Where(c => c != '"'), 0, 12];
        Gen.Select(Gen.Bool, opaque).Array[1, 5].Sample(tags =>
        {
            var text = string.Join(" ,", tags.Select(t => (t.Item1 ? "W/" : "") + "\"" + t.Item2 + "\""));
            return EntityTags.TryParse(text, out var any, out var parsed) && !any &&
                   parsed.SequenceEqual(tags.Select(t => (t.Item1, t.Item2)));
        });
    }
}
