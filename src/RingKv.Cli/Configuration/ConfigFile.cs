using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using RingKv.Coordinator.Hosting;
using RingKv.Node.Hosting;

namespace RingKv.Cli.Configuration;

/// <summary>
/// The configuration file: one JSON document with a <c>node</c> section (a NodeOptions) and a
/// <c>coordinator</c> section (a CoordinatorOptions), each key a property of the options class in
/// camelCase; nested objects (<c>limits</c>) likewise. Unknown keys and ill-typed values are
/// refused, every one of them listed. Keys are found through the source-generated metadata of the
/// options classes (<see cref="OptionsJsonContext"/>), so new options need no code here.
/// </summary>
public static class ConfigFile
{
    public const string NodeSection = "node";
    public const string CoordinatorSection = "coordinator";

    /// <summary>Lets editors find a JSON schema, if one is named; otherwise ignored.</summary>
    private const string SchemaKey = "$schema";

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>A NodeOptions with the file's <c>node</c> section applied over the defaults.</summary>
    public static NodeOptions LoadNode(string path) => Load(path, NodeSection, OptionsJsonContext.Default.NodeOptions, () => new NodeOptions());

    /// <summary>A CoordinatorOptions with the file's <c>coordinator</c> section applied over the defaults.</summary>
    public static CoordinatorOptions LoadCoordinator(string path) => Load(path, CoordinatorSection, OptionsJsonContext.Default.CoordinatorOptions, () => new CoordinatorOptions());

    /// <summary>Whether the file has the named section (it was loaded already, so it parses).</summary>
    public static bool HasSection(string path, string section)
    {
        if (!TryParse(path, [], out var root))
        {
            return false;
        }
        using (root)
        {
            return Section(root.RootElement, section) is not null;
        }
    }

    /// <summary>Every problem of the file: syntax, unknown keys, ill-typed values, and what the options' own validation refuses.</summary>
    public static IReadOnlyList<string> Check(string path)
    {
        var problems = new List<string>();
        if (!TryParse(path, problems, out var root))
        {
            return problems;
        }
        using (root)
        {
            CheckTopLevel(root.RootElement, problems);
            if (Section(root.RootElement, NodeSection) is { } node)
            {
                var options = new NodeOptions();
                Apply(node, options, OptionsJsonContext.Default.NodeOptions, NodeSection, problems);
                // Validate() stops at its first failure; the protected-mode check is separate, so both are listed.
                Validate(NodeSection, options.Validate, problems);
                Validate(NodeSection, () => NodeHost.ParseBindAddress(options.BindAddress, options.AuthFile is not null), problems);
            }
            if (Section(root.RootElement, CoordinatorSection) is { } coordinator)
            {
                var options = new CoordinatorOptions();
                Apply(coordinator, options, OptionsJsonContext.Default.CoordinatorOptions, CoordinatorSection, problems);
                Validate(CoordinatorSection, options.Validate, problems);
                Validate(CoordinatorSection, () => NodeHost.ParseBindAddress(options.BindAddress, options.AuthFile is not null), problems);
            }
        }
        return problems;
    }

    /// <summary>Writes <paramref name="options"/> as a file's coordinator section (for the members <c>up</c> starts).</summary>
    public static void WriteCoordinator(CoordinatorOptions options, string path)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WritePropertyName(CoordinatorSection);
            WriteSettable(json, options, OptionsJsonContext.Default.CoordinatorOptions);
            json.WriteEndObject();
        }
        File.WriteAllBytes(path, buffer.WrittenSpan.ToArray());
    }

    /// <summary>A file with every setting at its default, to start from.</summary>
    public static string Defaults()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WritePropertyName(NodeSection);
            WriteSettable(json, new NodeOptions(), OptionsJsonContext.Default.NodeOptions);
            json.WritePropertyName(CoordinatorSection);
            WriteSettable(json, new CoordinatorOptions(), OptionsJsonContext.Default.CoordinatorOptions);
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan) + Environment.NewLine;
    }

    /// <summary>The keys a section takes, nested ones as <c>limits.maxConnections</c> (docs/CONFIG.md lists them all).</summary>
    public static IEnumerable<string> Keys(string section) => section switch
    {
        NodeSection => KeysOf(OptionsJsonContext.Default.NodeOptions, ""),
        CoordinatorSection => KeysOf(OptionsJsonContext.Default.CoordinatorOptions, ""),
        _ => throw new ArgumentOutOfRangeException(nameof(section), section, "Sections are node and coordinator."),
    };

    private static T Load<T>(string path, string section, JsonTypeInfo<T> typeInfo, Func<T> defaults)
        where T : class
    {
        var problems = new List<string>();
        var options = defaults();
        if (TryParse(path, problems, out var root))
        {
            using (root)
            {
                CheckTopLevel(root.RootElement, problems);
                if (Section(root.RootElement, section) is { } element)
                {
                    Apply(element, options, typeInfo, section, problems);
                }
                else if (problems.Count == 0)
                {
                    problems.Add($"{path} has no \"{section}\" section. Add one (ringkv config defaults prints a complete file).");
                }
            }
        }
        if (problems.Count > 0)
        {
            throw new UsageException($"The configuration file {path} is not valid:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", problems));
        }
        return options;
    }

    private static bool TryParse(string path, List<string> problems, out JsonDocument document)
    {
        document = null!;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problems.Add($"{path} cannot be read: {e.Message}");
            return false;
        }
        try
        {
            document = JsonDocument.Parse(text, DocumentOptions);
        }
        catch (JsonException e)
        {
            problems.Add($"{path} is not valid JSON: {e.Message}");
            return false;
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{path} must hold one JSON object with a \"{NodeSection}\" and/or a \"{CoordinatorSection}\" section.");
            document.Dispose();
            return false;
        }
        return true;
    }

    private static void CheckTopLevel(JsonElement root, List<string> problems)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (property.Name is not (NodeSection or CoordinatorSection or SchemaKey))
            {
                problems.Add($"unknown section \"{property.Name}\": the file takes \"{NodeSection}\" and \"{CoordinatorSection}\".");
            }
            else if (property.Name != SchemaKey && property.Value.ValueKind != JsonValueKind.Object)
            {
                problems.Add($"\"{property.Name}\" must be an object of settings.");
            }
        }
    }

    private static JsonElement? Section(JsonElement root, string name) =>
        root.TryGetProperty(name, out var section) && section.ValueKind == JsonValueKind.Object ? section : null;

    /// <summary>Sets each key of <paramref name="element"/> on <paramref name="target"/>; nested option objects are filled in place, keeping their other defaults.</summary>
    private static void Apply(JsonElement element, object target, JsonTypeInfo typeInfo, string path, List<string> problems)
    {
        var settable = typeInfo.Properties.Where(p => p.Set is not null).ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var key = path + "." + property.Name;
            if (!settable.TryGetValue(property.Name, out var info))
            {
                var near = settable.Keys.FirstOrDefault(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase));
                problems.Add($"unknown key \"{key}\"" + (near is null ? $". Known keys: {string.Join(", ", settable.Keys)}." : $": did you mean \"{near}\"?"));
                continue;
            }
            var propertyType = typeInfo.Options.GetTypeInfo(info.PropertyType);
            if (propertyType.Kind == JsonTypeInfoKind.Object && info.Get?.Invoke(target) is { } nested)
            {
                if (property.Value.ValueKind != JsonValueKind.Object)
                {
                    problems.Add($"\"{key}\" must be an object of settings.");
                    continue;
                }
                Apply(property.Value, nested, propertyType, key, problems);
                continue;
            }
            try
            {
                var value = property.Value.Deserialize(propertyType);
                // IsSetNullable comes from the property's nullable annotation: "dataDirectory": null is refused, "join": null is not.
                if (value is null && !info.IsSetNullable)
                {
                    problems.Add($"\"{key}\": null is not allowed here; leave the key out for the default.");
                    continue;
                }
                info.Set!(target, value);
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                problems.Add($"\"{key}\": {Describe(property.Value, info.PropertyType, e)}");
            }
        }
    }

    private static string Describe(JsonElement value, Type type, Exception e)
    {
        var expected = Nullable.GetUnderlyingType(type) ?? type;
        var wanted = expected.IsEnum
            ? "one of " + string.Join(", ", Enum.GetNames(expected).Select(n => n.ToLowerInvariant()))
            : expected == typeof(TimeSpan) ? "a number of seconds"
            : expected == typeof(string) ? "a string"
            : expected == typeof(bool) ? "true or false"
            : expected == typeof(int) || expected == typeof(uint) || expected == typeof(long) ? "a whole number"
            : expected == typeof(double) ? "a number"
            : expected.Name;
        return $"{value.GetRawText()} is not {wanted}" + (e.Message.StartsWith("expected", StringComparison.Ordinal) ? "" : ".");
    }

    private static void Validate(string section, Action validate, List<string> problems)
    {
        try
        {
            validate();
        }
        catch (ArgumentException e)
        {
            // ArgumentOutOfRangeException puts "Actual value was ..." on a line of its own.
            problems.Add($"\"{section}\": {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    private static void WriteSettable(Utf8JsonWriter json, object value, JsonTypeInfo typeInfo)
    {
        json.WriteStartObject();
        foreach (var property in typeInfo.Properties.Where(p => p.Set is not null))
        {
            json.WritePropertyName(property.Name);
            var propertyType = typeInfo.Options.GetTypeInfo(property.PropertyType);
            var current = property.Get!(value);
            if (propertyType.Kind == JsonTypeInfoKind.Object && current is not null)
            {
                WriteSettable(json, current, propertyType);
            }
            else if (current is Enum)
            {
                // Lowercase, as the command line spells them (reading ignores case).
                json.WriteStringValue(current.ToString()!.ToLowerInvariant());
            }
            else
            {
                JsonSerializer.Serialize(json, current, propertyType);
            }
        }
        json.WriteEndObject();
    }

    private static IEnumerable<string> KeysOf(JsonTypeInfo typeInfo, string prefix)
    {
        foreach (var property in typeInfo.Properties.Where(p => p.Set is not null))
        {
            var propertyType = typeInfo.Options.GetTypeInfo(property.PropertyType);
            if (propertyType.Kind == JsonTypeInfoKind.Object)
            {
                foreach (var nested in KeysOf(propertyType, prefix + property.Name + "."))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return prefix + property.Name;
            }
        }
    }
}
