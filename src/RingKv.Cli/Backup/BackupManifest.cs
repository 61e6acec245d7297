using System.Text.Json;
using System.Text.Json.Serialization;

namespace RingKv.Cli.Backup;

/// <summary>
/// <c>manifest.json</c> of a backup directory (docs/BACKUP.md). Rewritten (temp file, rename)
/// after every span that is finished, so an interrupted backup knows what it has; complete once
/// every span's file is written.
/// </summary>
public sealed class BackupManifest
{
    public const string FileName = "manifest.json";
    public const int CurrentFormat = 1;

    public int Format { get; set; } = CurrentFormat;

    public required string BackupId { get; set; }

    /// <summary>The URL the backup was taken through (the cluster has no id of its own).</summary>
    public required string Source { get; set; }

    public required long Epoch { get; set; }

    public long? EpochAtEnd { get; set; }

    public required int ReplicationFactor { get; set; }

    public required int Nodes { get; set; }

    public required DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>
    /// The point in time the backup guarantees: every write acknowledged before it is in the
    /// backup, at its version or a newer one. The start of the first run (a resumed backup keeps it).
    /// </summary>
    public required DateTimeOffset ConsistentAt { get; set; }

    public required string Guarantee { get; set; }

    public bool Complete { get; set; }

    public required int SpanCount { get; set; }

    public long Entries { get; set; }

    public long Tombstones { get; set; }

    public long ValueBytes { get; set; }

    /// <summary>Entries found expired when read, left out (they read as absent).</summary>
    public long ExpiredSkipped { get; set; }

    public List<BackupSpan> Spans { get; set; } = [];

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    public static BackupManifest? Load(string directory)
    {
        var path = PathIn(directory);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), BackupJsonContext.Default.BackupManifest)
                ?? throw new UsageException($"{path} is empty.");
        }
        catch (JsonException e)
        {
            throw new UsageException($"{path} is not a backup manifest: {e.Message}", e);
        }
    }

    /// <summary>Writes the manifest atomically: a reader (or a resumed run) sees the old one or the new one.</summary>
    public void Save(string directory)
    {
        var path = PathIn(directory);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, this, BackupJsonContext.Default.BackupManifest);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }
}

/// <summary>One span's file: its tokens, what it holds and its SHA-256.</summary>
public sealed class BackupSpan
{
    public required int Index { get; set; }

    /// <summary>First token, 16 hex digits (included).</summary>
    public required string First { get; set; }

    /// <summary>Last token, 16 hex digits (included).</summary>
    public required string Last { get; set; }

    /// <summary>Relative to the backup directory.</summary>
    public required string File { get; set; }

    public required long Entries { get; set; }

    public required long Tombstones { get; set; }

    public required long Bytes { get; set; }

    /// <summary>SHA-256 of the file's bytes, lowercase hex.</summary>
    public required string Sha256 { get; set; }

    /// <summary>Entries found expired when read, left out.</summary>
    public long ExpiredSkipped { get; set; }

    /// <summary>The fewest replicas any part of the span was read from (all of them merged, newest wins).</summary>
    public required int MinReplicasRead { get; set; }

    public required DateTimeOffset FinishedAt { get; set; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(BackupManifest))]
internal sealed partial class BackupJsonContext : JsonSerializerContext;
