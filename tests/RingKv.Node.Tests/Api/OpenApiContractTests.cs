using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using Microsoft.OpenApi;
using RingKv.Node.Tests.Support;

namespace RingKv.Node.Tests.Api;

/// <summary>
/// The OpenAPI document a node serves describes what the node really answers: real requests'
/// statuses, headers and JSON bodies are checked against the path, method and status the
/// document declares for them (bodies with a JSON Schema validator, JsonSchema.Net).
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
        Assert.StartsWith("3.1", JsonNode.Parse(text)!["openapi"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(["delete", "get", "head", "put"], PathItem(JsonNode.Parse(text)!, "/v1/kv/{key}").AsObject().Select(p => p.Key).Order());
    }

    [Fact]
    public async Task DocumentDeclaresEveryQueryParameterAndPreconditionHeaderOfTheKeyOperations()
    {
        var document = await FetchDocumentAsync();
        Assert.Equal(["If-Match", "If-None-Match", "consistency", "ttl", "w"], ParameterNames(document, "/v1/kv/{key}", "put").Where(n => n != "key").Order(StringComparer.Ordinal));
        Assert.Equal(["If-None-Match", "consistency", "r"], ParameterNames(document, "/v1/kv/{key}", "get").Where(n => n != "key").Order(StringComparer.Ordinal));
        Assert.Equal(["If-Match", "consistency", "w"], ParameterNames(document, "/v1/kv/{key}", "delete").Where(n => n != "key").Order(StringComparer.Ordinal));
        Assert.Equal(["cursor", "limit", "prefix"], ParameterNames(document, "/v1/kv", "get").Order(StringComparer.Ordinal));
        Assert.Contains("key", ParameterNames(document, "/v1/kv/{key}", "get"));
    }

    [Fact]
    public async Task RealAnswersMatchWhatTheDocumentDeclares()
    {
        var document = await FetchDocumentAsync();
        var key = NewKey();

        using (var put = await _http.PutAsync("/v1/kv/" + key, new StringContent("{\"a\":1}", Encoding.UTF8, "application/json")))
        {
            await AssertDeclaredAsync(document, "/v1/kv/{key}", "put", put);
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }
        using (var get = await _http.GetAsync("/v1/kv/" + key))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            await AssertDeclaredAsync(document, "/v1/kv/{key}", "get", get);
        }
        var expiring = NewKey();
        using (var put = await _http.PutAsync("/v1/kv/" + expiring + "?ttl=600&w=1", new StringContent("soon")))
        {
            await AssertDeclaredAsync(document, "/v1/kv/{key}", "put", put);
        }
        using (var get = await _http.GetAsync("/v1/kv/" + expiring + "?consistency=one"))
        {
            Assert.True(get.Headers.Contains("X-RingKV-Expires-At"));
            await AssertDeclaredAsync(document, "/v1/kv/{key}", "get", get);
        }
        using (var missing = await _http.GetAsync("/v1/kv/" + NewKey()))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            await AssertDeclaredAsync(document, "/v1/kv/{key}", "get", missing);
        }
        using (var badQuorum = await _http.GetAsync("/v1/kv/" + key + "?r=9"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badQuorum.StatusCode);
            Assert.Equal("invalid-quorum", (await ReadJsonAsync(badQuorum))["type"]!.GetValue<string>());
            await AssertDeclaredAsync(document, "/v1/kv/{key}", "get", badQuorum);
        }
        using (var list = await _http.GetAsync("/v1/kv?prefix=openapi/&limit=5"))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            await AssertDeclaredAsync(document, "/v1/kv", "get", list);
        }
        using (var request = new HttpRequestMessage(HttpMethod.Put, "/v1/kv/" + key) { Content = new StringContent("again") })
        {
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
            using var exists = await _http.SendAsync(request);
            Assert.Equal(HttpStatusCode.PreconditionFailed, exists.StatusCode);
            await AssertDeclaredAsync(document, "/v1/kv/{key}", "put", exists);
        }
        using (var delete = await _http.DeleteAsync("/v1/kv/" + key))
        {
            await AssertDeclaredAsync(document, "/v1/kv/{key}", "delete", delete);
        }
        using (var ready = await _http.GetAsync("/health/ready"))
        {
            await AssertDeclaredAsync(document, "/health/ready", "get", ready);
        }
    }

    [Fact]
    public async Task TheBodyCheckRefusesABodyWithoutTheDeclaredProperties()
    {
        // The check the contract test relies on can fail: a problem without detail and with a
        // string status is not what the document declares.
        var document = await FetchDocumentAsync();
        var schema = SchemaFor(document, "/v1/kv/{key}", "get", 404, "application/problem+json");
        var result = schema.Evaluate(JsonDocument.Parse("{\"type\":\"not-found\",\"title\":\"x\",\"status\":\"404\"}").RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        Assert.False(result.IsValid);
    }

    private async Task<JsonNode> FetchDocumentAsync()
    {
        using var response = await _http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    /// <summary>The status is declared for the operation; so are its response headers, with their patterns; a JSON body validates against the declared schema.</summary>
    private static async Task AssertDeclaredAsync(JsonNode document, string path, string method, HttpResponseMessage response)
    {
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var declared = Operation(document, path, method)["responses"]?[status]
            ?? throw new Xunit.Sdk.XunitException($"{method.ToUpperInvariant()} {path} answered {status}, which the document does not declare.");
        foreach (var (name, header) in declared["headers"]?.AsObject() ?? [])
        {
            var present = response.Headers.TryGetValues(name, out var values);
            Assert.True(present || header?["required"]?.GetValue<bool>() != true, $"{method.ToUpperInvariant()} {path} {status} declares header {name} as required, the answer has none.");
            if (present && header?["schema"]?["pattern"]?.GetValue<string>() is { } pattern)
            {
                Assert.Matches(new Regex(pattern), values!.Single());
            }
        }
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var content = declared["content"]?.AsObject();
        if (mediaType is null || response.Content.Headers.ContentLength == 0)
        {
            Assert.True(content is null || response.RequestMessage?.Method == HttpMethod.Head, $"{method.ToUpperInvariant()} {path} {status} declares a body, the answer has none.");
            return;
        }
        Assert.True(content is not null && (content.ContainsKey(mediaType) || content.ContainsKey("*/*")),
            $"{method.ToUpperInvariant()} {path} {status} answered {mediaType}; the document declares {string.Join(", ", content?.Select(c => c.Key) ?? [])}.");
        if (mediaType.EndsWith("json", StringComparison.Ordinal) && content!.ContainsKey(mediaType))
        {
            var body = await response.Content.ReadAsStringAsync();
            var result = SchemaFor(document, path, method, (int)response.StatusCode, mediaType)
                .Evaluate(JsonDocument.Parse(body).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{method.ToUpperInvariant()} {path} {status}: {body} does not match the declared schema: " +
                string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => d.InstanceLocation + ": " + e.Value))));
        }
    }

    private static JsonSchema SchemaFor(JsonNode document, string path, string method, int status, string mediaType)
    {
        var schema = Operation(document, path, method)["responses"]![status.ToString(System.Globalization.CultureInfo.InvariantCulture)]!["content"]![mediaType]!["schema"]!;
        return JsonSchema.FromText(Inline(schema, document).ToJsonString());
    }

    /// <summary>The schema with its <c>#/components/schemas/...</c> references replaced by their targets (ours are not recursive).</summary>
    private static JsonNode Inline(JsonNode schema, JsonNode document)
    {
        if (schema is JsonObject obj)
        {
            if (obj["$ref"]?.GetValue<string>() is { } reference)
            {
                var target = reference.Replace("#/", "", StringComparison.Ordinal).Split('/').Aggregate(document, (node, part) => node[part]!);
                return Inline(target, document);
            }
            var copy = new JsonObject();
            foreach (var (name, value) in obj)
            {
                copy[name] = value is null ? null : Inline(value, document);
            }
            return copy;
        }
        if (schema is JsonArray array)
        {
            return new JsonArray([.. array.Select(item => item is null ? null : Inline(item, document))]);
        }
        return schema.DeepClone();
    }

    private static JsonNode PathItem(JsonNode document, string path) =>
        document["paths"]?[path] ?? throw new Xunit.Sdk.XunitException($"The document has no path {path}.");

    private static JsonNode Operation(JsonNode document, string path, string method) =>
        PathItem(document, path)[method] ?? throw new Xunit.Sdk.XunitException($"The document has no {method.ToUpperInvariant()} {path}.");

    private static IEnumerable<string> ParameterNames(JsonNode document, string path, string method) =>
        Operation(document, path, method)["parameters"]?.AsArray().Select(p => p!["name"]!.GetValue<string>()) ?? [];

    private static async Task<JsonNode> ReadJsonAsync(HttpResponseMessage response) => JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
}
