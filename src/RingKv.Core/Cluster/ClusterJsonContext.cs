using System.Text.Json.Serialization;

namespace RingKv.Core.Cluster;

/// <summary>
/// Source-generated JSON for the cluster map (no reflection: trimming- and AOT-safe, and fast for a
/// map pushed to every node). camelCase, as in the HTTP API.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ClusterMap))]
public sealed partial class ClusterJsonContext : JsonSerializerContext;
