using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RingKv.Cli.Configuration;

/// <summary>
/// Durations in the configuration file are numbers of seconds, as on the command line
/// (<c>"requestTimeout": 2.5</c>), not .NET's "00:00:02.5".
/// </summary>
internal sealed class SecondsConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // Ranges are the options' own validation's to check (a clock offset may be negative).
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out var seconds) || double.IsNaN(seconds) || Math.Abs(seconds) > TimeSpan.MaxValue.TotalSeconds)
        {
            throw new JsonException("expected a number of seconds (e.g. 2.5)");
        }
        return TimeSpan.FromSeconds(seconds);
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.TotalSeconds.ToString("R", CultureInfo.InvariantCulture));
}

/// <summary>The same for settings that may be left unset (null keeps the built-in behaviour).</summary>
internal sealed class NullableSecondsConverter : JsonConverter<TimeSpan?>
{
    private static readonly SecondsConverter Inner = new();

    public override bool HandleNull => true;

    public override TimeSpan? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : Inner.Read(ref reader, typeof(TimeSpan), options);

    public override void Write(Utf8JsonWriter writer, TimeSpan? value, JsonSerializerOptions options)
    {
        if (value is { } duration)
        {
            Inner.Write(writer, duration, options);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
