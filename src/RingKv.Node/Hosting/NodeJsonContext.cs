using System.Text.Json.Serialization;

namespace RingKv.Node.Hosting;

public sealed record HealthStatus(string Status);

/// <summary>Source-generated JSON for the node's small documents: no reflection on hot or start-up paths.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(HealthStatus))]
internal sealed partial class NodeJsonContext : JsonSerializerContext;
