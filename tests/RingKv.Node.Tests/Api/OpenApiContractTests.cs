using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Microsoft.OpenApi;
using RingKv.Testing;

namespace RingKv.Node.Tests.Api;

/// <summary>
/// The OpenAPI document a node serves describes what the node really answers: real requests'
/// statuses, headers and JSON bodies are checked against the path, method and status the
/// document declares for them (<see cref="OpenApiContract"/>).
/// </summary>
public sealed class OpenApiContractTests(MemoryNodeFixture fixture) : IClassFixture<MemoryNodeFixture>
{
    private readonly HttpClient _http = fixture.Server.Client;

    private static string NewKey() => "openapi/" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task DocumentIsOpenApi31ThatTheOpenApiReaderLoadsWithoutErrors()
    {
        var text = await _http.GetStringAsync("/openapi/v1.json");
        var (document, diagnostic) = OpenApiDocument.Parse(text, OpenApiConstants.Json);
        Assert.NotNull(document);
        Assert.True(diagnostic?.Errors.Count is null or 0, "Reader errors: " + string.Join("; ", diagnostic!.Errors.Select(e => e.Pointer + ": " + e.Message)));
        var json = JsonNode.Parse(text)!;
        Assert.StartsWith("3.1", json["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["delete", "get", "head", "put"], json["paths"]!["/v1/kv/{key}"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task DocumentDeclaresEveryQueryParameterAndPreconditionHeaderOfTheKeyOperations()
    {
        var contract = await OpenApiContract.FetchAsync(_http);
        Assert.Equal(["If-Match", "If-None-Match", "consistency", "key", "ttl", "w"], contract.ParameterNames("/v1/kv/{key}", "put").Order(StringComparer.Ordinal));
        Assert.Equal(["If-None-Match", "consistency", "key", "r"], contract.ParameterNames("/v1/kv/{key}", "get").Order(StringComparer.Ordinal));
        Assert.Equal(["If-Match", "consistency", "key", "w"], contract.ParameterNames("/v1/kv/{key}", "delete").Order(StringComparer.Ordinal));
        Assert.Equal(["cursor", "limit", "prefix"], contract.ParameterNames("/v1/kv", "get").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task RealAnswersMatchWhatTheDocumentDeclares()
    {
        var contract = await OpenApiContract.FetchAsync(_http);
        var key = NewKey();

        using (var put = await _http.PutAsync("/v1/kv/" + key, new StringContent("{\"a\":1}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
            Assert.Empty(await contract.MismatchesAsync("/v1/kv/{key}", "put", put));
        }
        using (var get = await _http.GetAsync("/v1/kv/" + key))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Empty(await contract.MismatchesAsync("/v1/kv/{key}", "get", get));
        }
        var expiring = NewKey();
        using (var put = await _http.PutAsync("/v1/kv/" + expiring + "?ttl=600&w=1", new StringContent("soon")))
        {
            Assert.Empty(await contract.MismatchesAsync("/v1/kv/{key}", "put", put));
        }
        using (var get = await _http.GetAsync("/v1/kv/" + expiring + "?consistency=one"))
        {
            Assert.True(get.Headers.Contains("X-RingKV-Expires-At"));
            Assert.Empty(await contract.MismatchesAsync("/v1/kv/{key}", "get", get));
        }
        using (var missing = await _http.GetAsync("/v1/kv/" + NewKey()))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Empty(await contract.MismatchesAsync("/v1/kv/{key}", "get", missing));
        }
        using (var badQuorum = await _http.GetAsync("/v1/kv/" + key + "?r=9"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badQuorum.StatusCode);
            Assert.Equal("invalid-quorum", JsonNode.Parse(await badQuorum.Content.ReadAsStringAsync())!["type"]!.GetValue<string>());
            Assert.Empty(await contract.MismatchesAsync("/v1/kv/{key}", "get", badQuorum));
        }
        using (var list = await _http.GetAsync("/v1/kv?prefix=openapi/&limit=5"))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            Assert.Empty(await contract.MismatchesAsync("/v1/kv", "get", list));
        }
        using (var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = new StringContent("again") })
        {
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
            using var exists = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.PreconditionFailed, exists.StatusCode);
            Assert.Empty(await contract.MismatchesAsync("/v1/kv/{key}", "put", exists));
        }
        using (var delete = await _http.DeleteAsync("/v1/kv/" + key))
        {
            Assert.Empty(await contract.MismatchesAsync("/v1/kv/{key}", "delete", delete));
        }
        using (var ready = await _http.GetAsync("/health/ready"))
        {
            Assert.Empty(await contract.MismatchesAsync("/health/ready", "get", ready));
        }
    }

    [Fact]
    public async Task TheCheckRefusesAnswersTheDocumentDoesNotDeclare()
    {
        // The checks the contract test relies on can fail: a problem without detail and with a
        // string status is not the declared shape, and a status nobody declared is reported.
        var contract = await OpenApiContract.FetchAsync(_http);
        var schema = contract.SchemaFor("/v1/kv/{key}", "get", 404, "application/problem+json");
        var result = schema.Evaluate(JsonDocument.Parse("{\"type\":\"not-found\",\"title\":\"x\",\"status\":\"404\"}").RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.False(result.IsValid);

        using var teapot = new HttpResponseMessage((HttpStatusCode)418);
        Assert.Contains(await contract.MismatchesAsync("/v1/kv/{key}", "get", teapot), m => m.Contains("not declared", StringComparison.Ordinal));
    }
}
