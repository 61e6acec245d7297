using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace RingKv.Testing;

/// <summary>
/// Checks real HTTP answers against a server's OpenAPI document (<c>/openapi/v1.json</c>): the
/// status is declared for the path and method, required response headers are present and match
/// their patterns, the content type is declared, and a JSON body validates against the declared
/// schema (JsonSchema.Net; the document's <c>$ref</c>s are inlined first).
/// </summary>
public sealed class OpenApiContract(JsonNode document)
{
    public JsonNode Document { get; } = document;

    public static async Task<OpenApiContract> FetchAsync(HttpClient http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return new OpenApiContract(JsonNode.Parse(await http.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)))!);
    }

    /// <summary>Every way the answer departs from the document; empty when it matches.</summary>
    public async Task<IReadOnlyList<string>> MismatchesAsync(string path, string method, HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var problems = new List<string>();
        var what = $"{method.ToUpperInvariant()} {path} {(int)response.StatusCode}";
        if (Operation(path, method) is not { } operation)
        {
            return [$"the document has no {method.ToUpperInvariant()} {path}"];
        }
        var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        if (operation["responses"]?[status] is not { } declared)
        {
            return [$"{what}: the status is not declared (declared: {string.Join(", ", operation["responses"]?.AsObject().Select(r => r.Key) ?? [])})"];
        }
        foreach (var (name, header) in declared["headers"]?.AsObject() ?? [])
        {
            var present = response.Headers.TryGetValues(name, out var values);
            if (!present && header?["required"]?.GetValue<bool>() == true)
            {
                problems.Add($"{what}: required header {name} is missing");
            }
            if (present && header?["schema"]?["pattern"]?.GetValue<string>() is { } pattern && !Regex.IsMatch(values!.Single(), pattern))
            {
                problems.Add($"{what}: header {name} '{values!.Single()}' does not match {pattern}");
            }
        }
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var content = declared["content"]?.AsObject();
        if (mediaType is null || response.Content.Headers.ContentLength == 0)
        {
            if (content is not null && response.RequestMessage?.Method != HttpMethod.Head)
            {
                problems.Add($"{what}: a body is declared, the answer has none");
            }
            return problems;
        }
        if (content is null || !(content.ContainsKey(mediaType) || content.ContainsKey("*/*")))
        {
            problems.Add($"{what}: answered {mediaType}; declared: {string.Join(", ", content?.Select(c => c.Key) ?? [])}");
            return problems;
        }
        if (mediaType.EndsWith("json", StringComparison.Ordinal) && content.ContainsKey(mediaType))
        {
            var body = await response.Content.ReadAsStringAsync();
            var result = SchemaFor(path, method, (int)response.StatusCode, mediaType)
                .Evaluate(JsonDocument.Parse(body).RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!result.IsValid)
            {
                problems.Add($"{what}: {body} does not match the declared schema: " +
                    string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => d.InstanceLocation + ": " + e.Value))));
            }
        }
        return problems;
    }

    /// <summary>The declared schema of one answer's body, references inlined.</summary>
    public JsonSchema SchemaFor(string path, string method, int status, string mediaType)
    {
        var schema = Operation(path, method)?["responses"]?[status.ToString(CultureInfo.InvariantCulture)]?["content"]?[mediaType]?["schema"]
            ?? throw new InvalidOperationException($"The document declares no {mediaType} body for {method.ToUpperInvariant()} {path} {status}.");
        return JsonSchema.FromText(Inline(schema).ToJsonString());
    }

    public JsonNode? Operation(string path, string method) => Document["paths"]?[path]?[method];

    public IEnumerable<string> ParameterNames(string path, string method) =>
        Operation(path, method)?["parameters"]?.AsArray().Select(p => p!["name"]!.GetValue<string>()) ?? [];

    /// <summary>The schema with its <c>#/components/schemas/...</c> references replaced by their targets (ours are not recursive).</summary>
    private JsonNode Inline(JsonNode schema)
    {
        if (schema is JsonObject obj)
        {
            if (obj["$ref"]?.GetValue<string>() is { } reference)
            {
                return Inline(reference.Replace("#/", "", StringComparison.Ordinal).Split('/').Aggregate(Document, (node, part) => node[part]!));
            }
            var copy = new JsonObject();
            foreach (var (name, value) in obj)
            {
                copy[name] = value is null ? null : Inline(value);
            }
            return copy;
        }
        return schema is JsonArray array
            ? new JsonArray([.. array.Select(item => item is null ? null : Inline(item))])
            : schema.DeepClone();
    }
}
