using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RingKv.Core.Keys;
using RingKv.Node.Api;
using RingKv.Node.Api.OpenApi;
using RingKv.Node.Data;
using RingKv.Node.Hosting;
using RingKv.Node.Security;
using RingKv.Storage;

namespace RingKv.Node.Backup;

/// <summary>
/// The node's side of <c>ringkv backup</c> and <c>ringkv restore</c> (docs/BACKUP.md), admin role:
/// <c>GET /v1/admin/backup/range</c> pages through this node's own entries of a token span with
/// their versions (never forwarded, like <c>/v1/local</c>), and <c>POST /v1/admin/restore</c>
/// writes a batch of backup lines through the replicated write path with the versions they carry.
/// </summary>
public static class BackupEndpoints
{
    public const string RangePath = "/v1/admin/backup/range";
    public const string RestorePath = "/v1/admin/restore";

    /// <summary>A page stops after this many bytes of values, whatever its limit: a page of large values stays a modest answer.</summary>
    public const int MaxPageValueBytes = 4 * 1024 * 1024;

    /// <summary>The largest restore batch taken, in bytes of lines: room for several of the largest values in base64.</summary>
    public const int MaxRestoreBodyBytes = 16 * 1024 * 1024;

    /// <summary>Entries of one restore batch, at most.</summary>
    public const int MaxRestoreEntries = 5000;

    private static readonly string[] RangeQuery = ["first", "last", "cursor", "limit", "backup"];
    private static readonly string[] RestoreQuery = ["w", "restore"];

    public static IEndpointRouteBuilder MapBackupApi(this IEndpointRouteBuilder routes)
    {
        var node = routes.ServiceProvider.GetRequiredService<NodeContext>();
        var engine = routes.ServiceProvider.GetRequiredService<IStorageEngine>();
        var operations = new AuditedOperations(routes.ServiceProvider.GetRequiredService<AuditLog>());
        routes.MapGet(RangePath, (Func<HttpContext, Task>)(context => RangeAsync(context, node, engine, operations)))
            .WithName("backupRange").WithTags("admin")
            .WithSummary("This node's own entries with token in [first, last], in (token, key) order, with versions, tombstones and expiry: one page and a cursor (docs/BACKUP.md)")
            .WithQuery(RangeQuery)
            .AnswersJson<ApiBackupPage>(200, "A page of entries; cursor null when the span is complete")
            .AnswersProblems((400, "invalid-query, invalid-token, invalid-cursor, invalid-limit"))
            .AnswersProblems(ApiDescription.AuthProblems);
        routes.MapPost(RestorePath, (Func<HttpContext, Task>)(context => RestoreAsync(context, node, operations)))
            .WithName("restore").WithTags("admin")
            .WithSummary("Writes backup lines (NDJSON, docs/BACKUP.md) to their keys' replicas with their own versions: a newer version already stored wins, expired entries are skipped")
            .WithQuery(RestoreQuery)
            .WithMetadata(new AcceptsMetadata([NdjsonContentType], typeof(Stream), isOptional: false))
            .AnswersJson<ApiRestoreOutcome>(200, "What became of the batch's entries")
            .AnswersProblems((400, "invalid-query, invalid-quorum, invalid-backup-entry"), (413, "batch-too-large"), (503, "node-not-ready"))
            .AnswersProblems(ApiDescription.AuthProblems);
        return routes;
    }

    public const string NdjsonContentType = "application/x-ndjson";

    private static async Task RangeAsync(HttpContext context, NodeContext node, IStorageEngine engine, AuditedOperations operations)
    {
        if (!await QueryRules.AllowOnlyAsync(context, RangeQuery))
        {
            return;
        }
        var query = context.Request.Query;
        if (!TryToken(query["first"], out var first) || !TryToken(query["last"], out var last) || first > last)
        {
            await Problem.WriteAsync(context, 400, "invalid-token", "The token span is not valid",
                "?first and ?last are required: tokens as 16 hex digits, first <= last (both included).");
            return;
        }
        var after = ScanPosition.AtToken(first);
        if (query.TryGetValue("cursor", out var cursorText))
        {
            if (!ListCursor.TryDecode(cursorText.ToString(), out after) || after.Token < first || after.Token > last)
            {
                await Problem.WriteAsync(context, 400, "invalid-cursor", "The cursor is not valid",
                    "Pass back the cursor of the previous page exactly as received, with the same first and last.");
                return;
            }
        }
        var limit = KvEndpoints.DefaultListLimit;
        if (query.TryGetValue("limit", out var limitText) &&
            (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > KvEndpoints.MaxListLimit))
        {
            await Problem.WriteAsync(context, 400, "invalid-limit", "The limit is not valid",
                $"?limit must be a whole number from 1 to {KvEndpoints.MaxListLimit} (default {KvEndpoints.DefaultListLimit}).");
            return;
        }
        if (await OperationIdAsync(context, "backup") is not { } backup)
        {
            return;
        }
        operations.Once(context, "backup-read", "backup", backup, "this node's entries read with their versions");

        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("entries");
            var count = 0;
            long valueBytes = 0;
            StoredEntry? lastEntry = null;
            var more = false;
            foreach (var entry in engine.Scan(after, last))
            {
                if (count == limit || valueBytes >= MaxPageValueBytes)
                {
                    more = true;
                    break;
                }
                BackupLine.WriteObject(json, entry);
                lastEntry = entry;
                count++;
                valueBytes += entry.Value.Length;
            }
            json.WriteEndArray();
            if (more)
            {
                json.WriteString("cursor", ListCursor.Encode(LocalListing.PositionOf(lastEntry!)));
            }
            else
            {
                json.WriteNull("cursor");
            }
            json.WriteEndObject();
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private static async Task RestoreAsync(HttpContext context, NodeContext node, AuditedOperations operations)
    {
        if (!await QueryRules.AllowOnlyAsync(context, RestoreQuery))
        {
            return;
        }
        if (!QuorumParameters.TryParse(context.Request.Query, "w", node.Service.ReplicationFactor, out var required, out var quorumError))
        {
            await Problem.WriteAsync(context, 400, "invalid-quorum", "The quorum is not valid", quorumError);
            return;
        }
        if (await OperationIdAsync(context, "restore") is not { } restore)
        {
            return;
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            // The listener's limit is the value limit; a batch of lines is larger by design.
            bodyLimit.MaxRequestBodySize = MaxRestoreBodyBytes + 1L;
        }
        if (context.Request.ContentLength > MaxRestoreBodyBytes)
        {
            await BatchTooLargeAsync(context);
            return;
        }
        byte[]? body;
        try
        {
            body = await ReadBodyAsync(context.Request.BodyReader, MaxRestoreBodyBytes, context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            await Problem.WriteAsync(context, ex.StatusCode, "bad-request-body", "The request body could not be read", ex.Message);
            return;
        }
        if (body is null)
        {
            await BatchTooLargeAsync(context);
            return;
        }
        var entries = new List<StoredEntry>();
        var lineNumber = 0;
        foreach (var range in Lines(body))
        {
            lineNumber++;
            var line = body.AsSpan(range);
            if (line.IsEmpty)
            {
                continue;
            }
            var error = BackupLine.TryRead(line, out var entry, out var reason) ? Validate(entry, node.Options) : reason;
            if (error.Length > 0)
            {
                await Problem.WriteAsync(context, 400, "invalid-backup-entry", "A backup line is not valid", $"Line {lineNumber}: {error}. Nothing of this batch was written.");
                return;
            }
            if (entries.Count == MaxRestoreEntries)
            {
                await BatchTooLargeAsync(context);
                return;
            }
            entries.Add(entry);
        }
        operations.Once(context, "restore", "restore", restore, "entries written with their own versions through this node");

        var outcome = new ApiRestoreOutcome { Applied = 0, Superseded = 0, Expired = 0, Refused = 0, Failed = 0 };
        var nowMs = node.NowMs();
        var writes = new List<Task<WriteResult>>(entries.Count);
        foreach (var entry in entries)
        {
            if (entry.ExpiresAtMs != 0 && entry.ExpiresAtMs <= nowMs)
            {
                // An expired key must not come back; nothing older can be shadowed by it either,
                // since the backup holds only the newest version it found.
                outcome.Expired++;
            }
            else if (!node.Clock.TryObserve(entry.Version.Timestamp))
            {
                // Beyond the clock bound: no replica would store it (docs/ARCHITECTURE.md, Clock bound).
                outcome.Refused++;
            }
            else
            {
                writes.Add(node.Service.RestoreAsync(entry, required, context.RequestAborted).AsTask());
            }
        }
        foreach (var write in writes)
        {
            try
            {
                if ((await write).Status == WriteStatus.Applied)
                {
                    outcome.Applied++;
                }
                else
                {
                    outcome.Superseded++;
                }
            }
            catch (InsufficientReplicasException)
            {
                outcome.Failed++;
            }
            catch (NodeNotReadyException ex)
            {
                await Problem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "node-not-ready", "The node is not ready",
                    ex.Message + " Retry shortly, or send the batch to another node.");
                return;
            }
        }
        await ClusterStatusJson.WriteAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("applied", outcome.Applied);
            json.WriteNumber("superseded", outcome.Superseded);
            json.WriteNumber("expired", outcome.Expired);
            json.WriteNumber("refused", outcome.Refused);
            json.WriteNumber("failed", outcome.Failed);
            json.WriteEndObject();
        });
    }

    private static string Validate(StoredEntry entry, NodeOptions options)
    {
        var keyError = KeyRules.Validate(entry.Key, options.MaxKeyBytes);
        if (keyError != KeyError.None)
        {
            return KeyRules.Describe(keyError, options.MaxKeyBytes).TrimEnd('.');
        }
        if (entry.Value.Length > options.MaxValueBytes)
        {
            return $"the value of '{entry.Key}' has {entry.Value.Length} bytes, above this cluster's --max-value-bytes {options.MaxValueBytes}";
        }
        if (entry.ContentType.Length is 0 or > 255 || ControlCharacters.In(entry.ContentType))
        {
            return "contentType must be 1 to 255 printable characters";
        }
        return entry.Deleted && entry.Value.Length > 0 ? "a tombstone has no value" : string.Empty;
    }

    private static Task BatchTooLargeAsync(HttpContext context) =>
        Problem.WriteAsync(context, 413, "batch-too-large", "The batch is too large",
            $"A restore batch holds at most {MaxRestoreEntries} lines and {MaxRestoreBodyBytes} bytes. Send smaller batches.");

    /// <summary>The operation id (1..64 letters, digits, '-'), empty when not given; null once a 400 was answered.</summary>
    private static async Task<string?> OperationIdAsync(HttpContext context, string name)
    {
        var id = context.Request.Query[name].ToString();
        if (id.Length <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            return id;
        }
        await Problem.InvalidQuery(context, $"?{name} must be 1 to 64 letters, digits or '-'.");
        return null;
    }

    private static bool TryToken(Microsoft.Extensions.Primitives.StringValues text, out ulong token)
    {
        token = 0;
        return text.Count == 1 && text[0] is { Length: 16 } hex && ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out token);
    }

    private static IEnumerable<Range> Lines(byte[] body)
    {
        var start = 0;
        while (start < body.Length)
        {
            var end = Array.IndexOf(body, (byte)'\n', start);
            if (end < 0)
            {
                end = body.Length;
            }
            yield return new Range(start, end > start && body[end - 1] == '\r' ? end - 1 : end);
            start = end + 1;
        }
    }

    private static async ValueTask<byte[]?> ReadBodyAsync(PipeReader reader, int max, CancellationToken cancellationToken)
    {
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            var buffer = read.Buffer;
            if (buffer.Length > max)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }
            if (read.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }
}
