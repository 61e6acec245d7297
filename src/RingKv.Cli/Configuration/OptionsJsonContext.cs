using System.Text.Json.Serialization;
using RingKv.Coordinator.Hosting;
using RingKv.Node.Hosting;

namespace RingKv.Cli.Configuration;

/// <summary>
/// Source-generated metadata of the options classes: the configuration file's keys are their
/// properties, by camelCase name, so a property added to NodeOptions or CoordinatorOptions is a
/// file setting with no change here. No reflection at run time.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    WriteIndented = true,
    NumberHandling = JsonNumberHandling.Strict,
    Converters = [typeof(SecondsConverter), typeof(NullableSecondsConverter)])]
[JsonSerializable(typeof(NodeOptions))]
[JsonSerializable(typeof(CoordinatorOptions))]
internal sealed partial class OptionsJsonContext : JsonSerializerContext;
