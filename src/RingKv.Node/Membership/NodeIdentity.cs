using System.Text.Json;
using System.Text.Json.Serialization;

namespace RingKv.Node.Membership;

/// <summary>
/// The member id and number this node was admitted with, kept in its data directory so that a
/// restarted node asks to come back as the same member, with the same data.
/// </summary>
public sealed record NodeIdentity(string Id, uint Number)
{
    private const string FileName = "identity.json";

    public static NodeIdentity? Load(string dataDirectory)
    {
        var path = Path.Combine(dataDirectory, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize(File.ReadAllBytes(path), NodeIdentityJsonContext.Default.NodeIdentity) : null;
    }

    public static void Delete(string dataDirectory) => File.Delete(Path.Combine(dataDirectory, FileName));

    public void Save(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, FileName);
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(this, NodeIdentityJsonContext.Default.NodeIdentity));
        File.Move(temporary, path, overwrite: true);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(NodeIdentity))]
internal sealed partial class NodeIdentityJsonContext : JsonSerializerContext;
