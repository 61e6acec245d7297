using RingKv.Core.Cluster;

namespace RingKv.Coordinator.Membership;

/// <summary>
/// Keeps the cluster map in the coordinator's data directory: a restarted coordinator comes back
/// with the same members, tokens and epoch. Written to a temporary file, fsynced, then renamed
/// over the old one, so a crash leaves either the old map or the new one, never half of one.
/// </summary>
public sealed class ClusterMapStore(string dataDirectory)
{
    private readonly string _path = Path.Combine(dataDirectory, "cluster-map.json");

    public ClusterMap? Load() => File.Exists(_path) ? ClusterMap.FromJson(File.ReadAllBytes(_path)) : null;

    public void Save(ClusterMap map)
    {
        Directory.CreateDirectory(dataDirectory);
        var temporary = _path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(map.ToUtf8Json());
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, _path, overwrite: true);
    }
}
