using System.Text.Json.Serialization;

namespace RingKv.Node.Api.OpenApi;

// The shapes of the JSON bodies the v1 API answers, for the OpenAPI document only: the handlers
// write them with Utf8JsonWriter (no serializer on the request path). The contract tests check
// real answers against the schemas generated from these types, so the two cannot drift apart.

/// <summary>RFC 9457 problem details as <see cref="Problem"/> writes them.</summary>
/// <remarks>Strict numbers: the web defaults would also accept numbers in strings, and the schema would say so.</remarks>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed class ApiProblem
{
    /// <summary>A stable name of the cause (invalid-key, not-found, insufficient-replicas, ...): what clients switch on.</summary>
    public required string Type { get; init; }

    public required string Title { get; init; }

    public required int Status { get; init; }

    /// <summary>What happened and what to do about it.</summary>
    public required string Detail { get; init; }

    /// <summary>insufficient-replicas only: acknowledgements (or answers) required.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Required { get; init; }

    /// <summary>insufficient-replicas only: replicas that acknowledged (or answered) in time.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Acknowledged { get; init; }

    /// <summary>insufficient-replicas only: replicas asked.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? Replicas { get; init; }
}

/// <summary>One page of <c>GET /v1/kv</c>.</summary>
public sealed class ApiKeyPage
{
    public required IReadOnlyList<string> Keys { get; init; }

    /// <summary>Pass back as <c>?cursor=</c> for the next page; null when the listing is complete.</summary>
    public required string? Cursor { get; init; }
}

/// <summary>The body of <c>/health/live</c> and <c>/health/ready</c> on a node.</summary>
public sealed class ApiHealth
{
    /// <summary>live, ready, or joining (503: not admitted to the cluster yet).</summary>
    public required string Status { get; init; }
}
