using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace RingKv.Node.Api.OpenApi;

/// <summary>
/// Writes the query parameters, request headers and response headers that endpoints declare
/// (<see cref="ApiDescription"/>) into their operations. Every parameter is described once here,
/// so a parameter means the same on every endpoint and in every process's document.
/// </summary>
internal static class ParameterTransformer
{
    private const int MaxReplicationFactor = 7;

    private static readonly Dictionary<string, Func<OpenApiParameter>> Query = new(StringComparer.Ordinal)
    {
        ["w"] = () => Parameter("w", "Acknowledgements to wait for, 1..RF (default: a majority, 2 of 3). Not together with consistency.",
            Integer(1, MaxReplicationFactor)),
        ["r"] = () => Parameter("r", "Replicas to read, 1..RF (default: a majority); the newest version among them wins. Not together with consistency.",
            Integer(1, MaxReplicationFactor)),
        ["consistency"] = () => Parameter("consistency", "The quorum by name: one, quorum (default) or all. Not together with w or r.",
            new OpenApiSchema { Type = JsonSchemaType.String, Enum = [JsonValue.Create("one"), JsonValue.Create("quorum"), JsonValue.Create("all")] }),
        ["ttl"] = () => Parameter("ttl", "Seconds until the key reads as absent. Omit for a key that never expires.",
            Integer(1, KvEndpoints.MaxTtlSeconds)),
        ["prefix"] = () => Parameter("prefix", "Only keys starting with this text (no control characters). Default: every key.",
            new OpenApiSchema { Type = JsonSchemaType.String }),
        ["limit"] = () => Parameter("limit", $"Keys per page, 1..{KvEndpoints.MaxListLimit} (default {KvEndpoints.DefaultListLimit}).",
            Integer(1, KvEndpoints.MaxListLimit, KvEndpoints.DefaultListLimit)),
        ["cursor"] = () => Parameter("cursor", "The previous page's cursor, exactly as received. Omit to start from the beginning.",
            new OpenApiSchema { Type = JsonSchemaType.String }),
        ["first"] = () => Parameter("first", "The span's first token, 16 hex digits (included).", TokenSchema()),
        ["last"] = () => Parameter("last", "The span's last token, 16 hex digits (included), at least first.", TokenSchema()),
        ["backup"] = () => Parameter("backup", "The backup's id (1..64 letters, digits, '-'): the audit log names it once per node.", OperationIdSchema()),
        ["restore"] = () => Parameter("restore", "The restore's id (1..64 letters, digits, '-'): the audit log names it once per node.", OperationIdSchema()),
        ["force"] = () => Parameter("force", "true: remove a dead node at once, without moving its ranges first.",
            new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) }),
        ["ranges"] = () => Parameter("ranges", "true: also list every range this node drives.",
            new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) }),
    };

    private static readonly Dictionary<string, Func<OpenApiParameter>> RequestHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        ["If-Match"] = () => Header("If-Match", "Write or delete only if the key's current version is this one (a quoted version, as in an ETag); else 412.", VersionSchema()),
        ["If-None-Match"] = () => Header("If-None-Match", "On PUT: '*', write only if the key is absent, else 412. On GET: a quoted version, 304 when unchanged.",
            new OpenApiSchema { Type = JsonSchemaType.String }),
    };

    private static readonly Dictionary<string, Func<OpenApiHeader>> ResponseHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ETag"] = () => new OpenApiHeader { Required = true, Description = "The version stored: 16 hex digits, '-', 8 hex digits, in quotes. Text order is version order.", Schema = VersionSchema() },
        ["X-RingKV-Expires-At"] = () => new OpenApiHeader { Description = "When the key expires (ISO 8601, UTC); only for keys written with ?ttl.", Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "date-time" } },
    };

    public static Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var parameters = operation.Parameters ??= [];
        // A {**key} catch-all is not a handler argument, so nothing declares it: it is the key, percent-decoded once.
        if (context.Description.RelativePath is { } path && (path.Contains("{key}", StringComparison.Ordinal) || path.Contains("{**key}", StringComparison.Ordinal)) && !parameters.Any(p => p.Name == "key"))
        {
            parameters.Add(new OpenApiParameter
            {
                Name = "key",
                In = ParameterLocation.Path,
                Required = true,
                Description = "The key: 1..1024 UTF-8 bytes, '/' allowed, percent-decoded exactly once (docs/API.md, Keys).",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
        }
        foreach (var declared in metadata.OfType<ApiDescription.QueryParametersMetadata>().SelectMany(m => m.Names))
        {
            parameters.Add(Query.TryGetValue(declared, out var create) ? create() : throw Undescribed("query parameter", declared));
        }
        foreach (var declared in metadata.OfType<ApiDescription.RequestHeadersMetadata>().SelectMany(m => m.Names))
        {
            parameters.Add(RequestHeaders.TryGetValue(declared, out var create) ? create() : throw Undescribed("request header", declared));
        }
        // The generator names a status by its reason phrase ("Bad Request"); ours says which problem types it carries.
        foreach (var declared in metadata.OfType<ApiDescription.ResponseMetadata>())
        {
            if (declared.Description is { } description &&
                operation.Responses?.TryGetValue(declared.StatusCode.ToString(CultureInfo.InvariantCulture), out var response) == true && response is OpenApiResponse concrete)
            {
                concrete.Description = description;
            }
        }
        foreach (var declared in metadata.OfType<ApiDescription.ResponseHeadersMetadata>())
        {
            if (operation.Responses?.TryGetValue(declared.Status.ToString(CultureInfo.InvariantCulture), out var response) != true || response is not OpenApiResponse concrete)
            {
                throw new InvalidOperationException($"Response headers are declared for status {declared.Status}, which the endpoint does not declare.");
            }
            concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
            foreach (var name in declared.Names)
            {
                concrete.Headers[name] = ResponseHeaders.TryGetValue(name, out var create) ? create() : throw Undescribed("response header", name);
            }
        }
        return Task.CompletedTask;
    }

    private static InvalidOperationException Undescribed(string what, string name) =>
        new($"The {what} '{name}' has no description in {nameof(ParameterTransformer)}: add it there.");

    private static OpenApiParameter Parameter(string name, string description, OpenApiSchema schema) =>
        new() { Name = name, In = ParameterLocation.Query, Description = description, Schema = schema };

    private static OpenApiParameter Header(string name, string description, OpenApiSchema schema) =>
        new() { Name = name, In = ParameterLocation.Header, Description = description, Schema = schema };

    private static OpenApiSchema Integer(long minimum, long maximum, long? defaultValue = null) => new()
    {
        Type = JsonSchemaType.Integer,
        Minimum = minimum.ToString(CultureInfo.InvariantCulture),
        Maximum = maximum.ToString(CultureInfo.InvariantCulture),
        Default = defaultValue is { } value ? JsonValue.Create(value) : null,
    };

    private static OpenApiSchema TokenSchema() => new() { Type = JsonSchemaType.String, Pattern = "^[0-9a-fA-F]{16}$" };

    private static OpenApiSchema OperationIdSchema() => new() { Type = JsonSchemaType.String, Pattern = "^[A-Za-z0-9-]{1,64}$" };

    private static OpenApiSchema VersionSchema() => new() { Type = JsonSchemaType.String, Pattern = "^\"[0-9a-f]{16}-[0-9a-f]{8}\"$" };
}
