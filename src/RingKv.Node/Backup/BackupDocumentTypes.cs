using System.Text.Json.Serialization;

namespace RingKv.Node.Backup;

// The JSON bodies of the backup endpoints, for the OpenAPI document only (the handlers write them
// with Utf8JsonWriter); the contract tests check real answers against these schemas.

/// <summary>One page of <c>GET /v1/admin/backup/range</c>.</summary>
public sealed class ApiBackupPage
{
    public required IReadOnlyList<ApiBackupEntry> Entries { get; init; }

    /// <summary>Pass back as <c>?cursor=</c> (with the same first and last) for the next page; null when the span is complete.</summary>
    public required string? Cursor { get; init; }
}

/// <summary>An entry with its version, as a backup line holds it (docs/BACKUP.md).</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed class ApiBackupEntry
{
    public required string Key { get; init; }

    /// <summary>16 hex digits of hybrid logical clock, '-', 8 hex digits of writer.</summary>
    public required string Version { get; init; }

    /// <summary>A tombstone: the key was deleted at this version.</summary>
    public required bool Deleted { get; init; }

    public required string ContentType { get; init; }

    /// <summary>Unix milliseconds after which the entry reads as absent; 0 for never.</summary>
    public required long ExpiresAtMs { get; init; }

    /// <summary>The value's bytes in base64; empty for a tombstone.</summary>
    public required string Value { get; init; }
}

/// <summary>The answer of <c>POST /v1/admin/restore</c>: what became of each line of the batch.</summary>
[JsonNumberHandling(JsonNumberHandling.Strict)]
public sealed class ApiRestoreOutcome
{
    /// <summary>Stored at a write quorum with the backup's version.</summary>
    public required long Applied { get; set; }

    /// <summary>A replica already held a newer version, which stays (last writer wins).</summary>
    public required long Superseded { get; set; }

    /// <summary>Expired before the batch arrived: not written.</summary>
    public required long Expired { get; set; }

    /// <summary>A version further ahead of this node's clock than --max-clock-skew: not written.</summary>
    public required long Refused { get; set; }

    /// <summary>Fewer replicas than the write quorum answered: send the batch again (restoring is idempotent).</summary>
    public required long Failed { get; set; }
}
