using System.Buffers;
using System.Text.Json;
using RingKv.Core.Hashing;
using RingKv.Core.Versioning;
using RingKv.Storage;

namespace RingKv.Node.Backup;

/// <summary>
/// One entry as a line of JSON (docs/BACKUP.md): what a backup file holds, what the range dump
/// answers and what the restore endpoint reads, so a backup is restored without rewriting it.
/// <c>{"key":"...","version":"...","deleted":false,"contentType":"...","expiresAtMs":0,"value":"base64"}</c>
/// </summary>
/// <remarks>The token is not written: it is the key's hash (<see cref="KeyToken"/>), recomputed on reading.</remarks>
public static class BackupLine
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    /// <summary>Writes the entry as one JSON object and a newline.</summary>
    public static void Write(IBufferWriter<byte> output, StoredEntry entry)
    {
        ArgumentNullException.ThrowIfNull(output);
        using (var json = new Utf8JsonWriter(output, WriterOptions))
        {
            WriteObject(json, entry);
        }
        output.Write("\n"u8);
    }

    /// <summary>Writes the entry as a JSON object into a document being written.</summary>
    public static void WriteObject(Utf8JsonWriter json, StoredEntry entry)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(entry);
        json.WriteStartObject();
        json.WriteString("key", entry.Key);
        json.WriteString("version", entry.Version.ToString());
        json.WriteBoolean("deleted", entry.Deleted);
        json.WriteString("contentType", entry.ContentType);
        json.WriteNumber("expiresAtMs", entry.ExpiresAtMs);
        json.WriteBase64String("value", entry.Value);
        json.WriteEndObject();
    }

    /// <summary>Reads one line (without its newline); false with a reason when it is not an entry.</summary>
    public static bool TryRead(ReadOnlySpan<byte> line, out StoredEntry entry, out string error)
    {
        entry = null!;
        try
        {
            var reader = new Utf8JsonReader(line);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "not a JSON object";
                return false;
            }
            if (!TryReadObject(ref reader, out entry, out error))
            {
                return false;
            }
            if (reader.Read())
            {
                error = "more than one JSON value on the line";
                return false;
            }
            return true;
        }
        catch (JsonException e)
        {
            error = "not JSON: " + e.Message;
            return false;
        }
    }

    /// <summary>Reads an entry object whose StartObject the reader is on; the reader ends on its EndObject.</summary>
    public static bool TryReadObject(ref Utf8JsonReader reader, out StoredEntry entry, out string error)
    {
        entry = null!;
        string? key = null, contentType = null;
        EntryVersion? version = null;
        bool? deleted = null;
        long? expiresAtMs = null;
        byte[]? value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            if (!reader.Read())
            {
                break;
            }
            switch (name)
            {
                case "key" when reader.TokenType == JsonTokenType.String:
                    key = reader.GetString();
                    break;
                case "version" when reader.TokenType == JsonTokenType.String:
                    if (!EntryVersion.TryParse(reader.GetString(), out var parsed))
                    {
                        error = "version is not 16 hex digits, '-', 8 hex digits";
                        return false;
                    }
                    version = parsed;
                    break;
                case "deleted" when reader.TokenType is JsonTokenType.True or JsonTokenType.False:
                    deleted = reader.GetBoolean();
                    break;
                case "contentType" when reader.TokenType == JsonTokenType.String:
                    contentType = reader.GetString();
                    break;
                case "expiresAtMs" when reader.TokenType == JsonTokenType.Number:
                    if (!reader.TryGetInt64(out var expires) || expires < 0)
                    {
                        error = "expiresAtMs is not a whole number of at least 0";
                        return false;
                    }
                    expiresAtMs = expires;
                    break;
                case "value" when reader.TokenType == JsonTokenType.String:
                    if (!reader.TryGetBytesFromBase64(out value))
                    {
                        error = "value is not base64";
                        return false;
                    }
                    break;
                default:
                    error = $"unexpected field '{name}' or a field of the wrong type";
                    return false;
            }
        }
        if (reader.TokenType != JsonTokenType.EndObject)
        {
            error = "the object is not complete";
            return false;
        }
        if (key is not { Length: > 0 } || version is null || deleted is null || contentType is null || expiresAtMs is null || value is null)
        {
            error = "an entry needs key, version, deleted, contentType, expiresAtMs and value";
            return false;
        }
        entry = new StoredEntry(key, KeyToken.Of(key), value, contentType, version.Value, deleted.Value, expiresAtMs.Value);
        error = string.Empty;
        return true;
    }
}
