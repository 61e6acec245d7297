using System.Text.Json;
using RingKv.Core.Cluster;

namespace RingKv.Coordinator.Consensus;

/// <summary>
/// A single coordinator's log: it always leads, and commits a state by writing it to its data
/// directory (to a temporary file, fsynced, then renamed over the old one, so a crash leaves the
/// old state or the new one, never half). The files are the ones a coordinator group takes over
/// when a single coordinator's data directory is upgraded in place.
/// </summary>
public sealed class LocalControlLog(string dataDirectory, int replicationFactor) : IControlLog
{
    public const string MapFile = "cluster-map.json";
    public const string DepartedFile = "departed-members.json";

    private ControlState? _current;

    public ControlState? Current => Volatile.Read(ref _current);

    public event Action<ControlState>? Applied;

    public string MemberId => "coordinator";

    public bool IsLeader => true;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var state = LoadLegacy(dataDirectory);
        if (state is null)
        {
            state = ControlState.Create(replicationFactor);
            Save(state);
        }
        Volatile.Write(ref _current, state);
        Applied?.Invoke(state);
        return Task.CompletedTask;
    }

    public Task<CancellationToken> WaitForLeadershipAsync(CancellationToken cancellationToken) => Task.FromResult(CancellationToken.None);

    public Task ProposeAsync(ControlState next, CancellationToken cancellationToken)
    {
        Save(next);
        Volatile.Write(ref _current, next);
        Applied?.Invoke(next);
        return Task.CompletedTask;
    }

    public GroupStatus Status() => new(MemberId, MemberId, 0, []);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>A single coordinator's state from its data directory, or null when it has none.</summary>
    public static ControlState? LoadLegacy(string dataDirectory)
    {
        var mapPath = Path.Combine(dataDirectory, MapFile);
        if (!File.Exists(mapPath))
        {
            return null;
        }
        var map = ClusterMap.FromJson(File.ReadAllBytes(mapPath));
        var departedPath = Path.Combine(dataDirectory, DepartedFile);
        var departed = File.Exists(departedPath)
            ? JsonSerializer.Deserialize<Dictionary<string, bool>>(File.ReadAllBytes(departedPath)) ?? []
            : [];
        return new ControlState(map, departed, new Dictionary<string, int>(), []);
    }

    private void Save(ControlState state)
    {
        Directory.CreateDirectory(dataDirectory);
        Write(Path.Combine(dataDirectory, DepartedFile), JsonSerializer.SerializeToUtf8Bytes(state.Departed));
        Write(Path.Combine(dataDirectory, MapFile), state.Map.ToUtf8Json());
    }

    private static void Write(string path, byte[] bytes)
    {
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}
