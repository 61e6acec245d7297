using System.Text.Json.Serialization;

namespace RingKv.Node.AntiEntropy;

/// <summary>Source-generated JSON for the anti-entropy status: no reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AntiEntropyStatus))]
internal sealed partial class AntiEntropyJsonContext : JsonSerializerContext;
