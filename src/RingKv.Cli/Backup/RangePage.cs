using System.Text.Json;
using RingKv.Node.Backup;
using RingKv.Storage;

namespace RingKv.Cli.Backup;

/// <summary>Reads one page of <c>GET /v1/admin/backup/range</c>: <c>{"entries":[...],"cursor":...}</c>.</summary>
public static class RangePage
{
    /// <summary>Adds the page's entries to <paramref name="entries"/>; returns the cursor of the next page, or null.</summary>
    public static string? Read(ReadOnlySpan<byte> body, List<StoredEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var reader = new Utf8JsonReader(body);
        string? cursor = null;
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject, "the page is not a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            Expect(reader.Read(), "the page ends early");
            if (name == "entries")
            {
                Expect(reader.TokenType == JsonTokenType.StartArray, "entries is not an array");
                while (reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                {
                    Expect(BackupLine.TryReadObject(ref reader, out var entry, out var error), error);
                    entries.Add(entry);
                }
                Expect(reader.TokenType == JsonTokenType.EndArray, "entries holds something other than entries");
            }
            else if (name == "cursor")
            {
                cursor = reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }
        return cursor;
    }

    private static void Expect(bool condition, string what)
    {
        if (!condition)
        {
            throw new BackupException("the node's page is not what docs/BACKUP.md describes: " + what);
        }
    }
}
