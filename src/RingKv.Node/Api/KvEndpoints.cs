using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RingKv.Core.Hashing;
using RingKv.Core.Keys;
using RingKv.Core.Versioning;
using RingKv.Node.Api.OpenApi;
using RingKv.Node.Data;
using RingKv.Node.Hosting;
using RingKv.Storage;

namespace RingKv.Node.Api;

/// <summary>
/// The public v1 key-value API (docs/API.md). Handlers are plain request delegates over
/// <see cref="IKeyValueService"/>: the same code serves a single node and, later, a cluster.
/// </summary>
public static class KvEndpoints
{
    /// <summary>The longest TTL accepted: ten years.</summary>
    public const long MaxTtlSeconds = 10L * 365 * 24 * 3600;

    public const int DefaultListLimit = 100;
    public const int MaxListLimit = 1000;

    private const int MaxContentTypeLength = 255;

    // The query parameters each operation takes (anything else is a 400): arrays made once, not per request.
    private static readonly string[] GetQuery = ["r", "consistency"];
    private static readonly string[] PutQuery = ["ttl", "w", "consistency"];
    private static readonly string[] DeleteQuery = ["w", "consistency"];
    private static readonly string[] ListQuery = ["prefix", "limit", "cursor"];

    public static IEndpointRouteBuilder MapKvApi(this IEndpointRouteBuilder routes)
    {
        // The node's services are singletons, looked up once here: reaching them through
        // RequestServices would create a service scope for every request.
        var node = routes.ServiceProvider.GetRequiredService<NodeContext>();
        // GET and HEAD are mapped apart so that each has its own operation (and operation id) in the OpenAPI document.
        routes.MapMethods("/v1/kv/{**key}", [HttpMethods.Get], Handler(node, "get", GetAsync)).DescribeGetKey(head: false);
        routes.MapMethods("/v1/kv/{**key}", [HttpMethods.Head], Handler(node, "get", GetAsync)).DescribeGetKey(head: true);
        routes.MapMethods("/v1/kv/{**key}", [HttpMethods.Put], Handler(node, "put", PutAsync)).DescribePutKey();
        routes.MapMethods("/v1/kv/{**key}", [HttpMethods.Delete], Handler(node, "delete", DeleteAsync)).DescribeDeleteKey();
        routes.MapMethods("/v1/kv", [HttpMethods.Get], Handler(node, "list", ListAsync)).DescribeListKeys(head: false);
        routes.MapMethods("/v1/kv", [HttpMethods.Head], Handler(node, "list", ListAsync)).DescribeListKeys(head: true);
        return routes;
    }

    /// <summary>
    /// A handler as a Delegate, not a RequestDelegate: ASP.NET Core's OpenAPI generator describes
    /// only endpoints built from a Delegate (it needs their MethodInfo), and a lambda of the
    /// RequestDelegate shape would bind to the RequestDelegate overload.
    /// </summary>
    internal static Delegate Handler(NodeContext node, string operation, Func<HttpContext, NodeContext, Task> handler) =>
        (HttpContext context) => Guarded(context, node, operation, handler);

    private static async Task GetAsync(HttpContext context, NodeContext node)
    {
        if (await ReadKeyOrAnswerAsync(context, node) is not { } key || !await AllowOnlyQueryAsync(context, GetQuery) ||
            await ReadQuorumOrAnswerAsync(context, node, "r") is not { } quorum)
        {
            return;
        }
        var entry = await node.Service.GetAsync(key, quorum.Required, context.RequestAborted);
        if (entry is null || !entry.IsLive(node.NowMs()))
        {
            await Problem.NotFound(context, key);
            return;
        }
        var etag = Quote(entry.Version);
        var response = context.Response;
        response.Headers.ETag = etag;
        // RFC 9110 section 13.2.2: If-Match first (412 when false), then If-None-Match (304 for a read).
        if (!TryReadPrecondition(context, out var conditions, out var conditionError))
        {
            await Problem.InvalidHeader(context, conditionError);
            return;
        }
        if (!conditions.IfMatchHolds(live: true, entry.Version))
        {
            await Problem.PreconditionFailed(context, $"The key's current version is \"{entry.Version}\"; If-Match named another.");
            return;
        }
        if (!conditions.IfNoneMatchHolds(live: true, entry.Version))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = entry.ContentType;
        response.ContentLength = entry.Value.Length;
        if (entry.ExpiresAtMs != 0)
        {
            response.Headers["X-RingKV-Expires-At"] = DateTimeOffset.FromUnixTimeMilliseconds(entry.ExpiresAtMs).ToString("O", CultureInfo.InvariantCulture);
        }
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(entry.Value, context.RequestAborted);
        }
    }

    private static async Task PutAsync(HttpContext context, NodeContext node)
    {
        if (await ReadKeyOrAnswerAsync(context, node) is not { } key || !await AllowOnlyQueryAsync(context, PutQuery) ||
            await ReadQuorumOrAnswerAsync(context, node, "w") is not { } quorum)
        {
            return;
        }
        long ttlSeconds = 0;
        if (context.Request.Query.TryGetValue("ttl", out var ttlText) &&
            (ttlText.Count != 1 || !long.TryParse(ttlText[0], NumberStyles.None, CultureInfo.InvariantCulture, out ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MaxTtlSeconds))
        {
            await Problem.WriteAsync(context, 400, "invalid-ttl", "The ttl is not valid",
                $"?ttl must be a whole number of seconds from 1 to {MaxTtlSeconds}. Omit it for a key that never expires.");
            return;
        }
        if (!TryReadPrecondition(context, out var precondition, out var preconditionError))
        {
            await Problem.InvalidHeader(context, preconditionError);
            return;
        }
        var contentType = context.Request.ContentType ?? StoredEntry.DefaultContentType;
        if (contentType.Length == 0 || contentType.Length > MaxContentTypeLength || ControlCharacters.In(contentType))
        {
            await Problem.InvalidHeader(context, $"Content-Type must be 1 to {MaxContentTypeLength} printable characters.");
            return;
        }
        var max = node.Options.MaxValueBytes;
        if (context.Request.ContentLength > max)
        {
            // Refused from the header alone: the body is never read.
            await Problem.ValueTooLarge(context, max);
            return;
        }
        byte[]? body;
        try
        {
            body = await ReadBodyAsync(context.Request.BodyReader, context.Request.ContentLength, max, context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own limits (body size, minimum data rate against slow clients) surface here.
            await Problem.WriteAsync(context, ex.StatusCode, "bad-request-body", "The request body could not be read", ex.Message);
            return;
        }
        if (body is null)
        {
            await Problem.ValueTooLarge(context, max);
            return;
        }
        if (JsonValidator.IsJsonContentType(contentType) && !JsonValidator.TryValidate(body, out var jsonError))
        {
            await Problem.WriteAsync(context, 400, "invalid-json", "The body is not valid JSON",
                $"Content-Type '{contentType}' requires one complete JSON document (object, array, string, number, true, false or null; at most {JsonValidator.MaxDepth} levels deep): {jsonError} Send it as application/octet-stream to store arbitrary bytes.");
            return;
        }
        var nowMs = node.NowMs();
        var version = new EntryVersion(node.Clock.Now(), node.Options.NodeId);
        var entry = new StoredEntry(key, KeyToken.Of(key), body, contentType, version, Deleted: false,
            ExpiresAtMs: ttlSeconds == 0 ? 0 : nowMs + (ttlSeconds * 1000));
        var result = await node.Service.WriteAsync(entry, precondition, quorum.Required, context.RequestAborted);
        await AnswerWriteAsync(context, result, version);
    }

    private static async Task DeleteAsync(HttpContext context, NodeContext node)
    {
        if (await ReadKeyOrAnswerAsync(context, node) is not { } key || !await AllowOnlyQueryAsync(context, DeleteQuery) ||
            await ReadQuorumOrAnswerAsync(context, node, "w") is not { } quorum)
        {
            return;
        }
        if (!TryReadPrecondition(context, out var precondition, out var preconditionError))
        {
            await Problem.InvalidHeader(context, preconditionError);
            return;
        }
        var version = new EntryVersion(node.Clock.Now(), node.Options.NodeId);
        var result = await node.Service.WriteAsync(StoredEntry.Tombstone(key, KeyToken.Of(key), version), precondition, quorum.Required, context.RequestAborted);
        await AnswerWriteAsync(context, result, version);
    }

    private static async Task ListAsync(HttpContext context, NodeContext node)
    {
        if (!await AllowOnlyQueryAsync(context, ListQuery))
        {
            return;
        }
        var query = context.Request.Query;
        var prefix = query.TryGetValue("prefix", out var prefixValues) ? prefixValues.ToString() : string.Empty;
        if (prefixValues.Count > 1 || ControlCharacters.In(prefix))
        {
            await Problem.InvalidQuery(context, "?prefix must be given at most once and contain no control characters.");
            return;
        }
        var limit = DefaultListLimit;
        if (query.TryGetValue("limit", out var limitText) &&
            (limitText.Count != 1 || !int.TryParse(limitText[0], NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxListLimit))
        {
            await Problem.WriteAsync(context, 400, "invalid-limit", "The limit is not valid",
                $"?limit must be a whole number from 1 to {MaxListLimit} (default {DefaultListLimit}).");
            return;
        }
        var after = ScanPosition.Start;
        if (query.TryGetValue("cursor", out var cursorText) && cursorText.Count > 0)
        {
            if (cursorText.Count != 1 || !ListCursor.TryDecode(cursorText[0]!, out after))
            {
                await Problem.WriteAsync(context, 400, "invalid-cursor", "The cursor is not valid",
                    "Pass back the cursor string of the previous page exactly as received, or omit it to start from the beginning.");
                return;
            }
        }
        var page = await node.Service.ListKeysAsync(prefix, after, limit, context.RequestAborted);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var key in page.Keys)
            {
                json.WriteStringValue(key);
            }
            json.WriteEndArray();
            if (page.Next is { } next)
            {
                json.WriteString("cursor", ListCursor.Encode(next));
            }
            else
            {
                json.WriteNull("cursor");
            }
            json.WriteEndObject();
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
        }
    }

    private static Task AnswerWriteAsync(HttpContext context, WriteResult result, EntryVersion version)
    {
        if (result.Status == WriteStatus.PreconditionFailed)
        {
            return Problem.PreconditionFailed(context, result.Current.IsZero
                ? "The key does not exist (If-Match needs an existing version). Read it again, or write without If-Match."
                : $"The key's current version is \"{result.Current}\". Read it again and retry with If-Match: \"{result.Current}\", or use If-None-Match: * only for keys that must not exist.");
        }
        // Stale (a newer write reached the replica first) is still a success for this write: it took
        // its place in the last-writer-wins order and was superseded.
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        // Applied: the version stored, which differs from the one stamped here when the write had to
        // be re-stamped above a newer version a replica held (ReplicatedKeyValueService).
        context.Response.Headers.ETag = Quote(result.Status == WriteStatus.Applied && !result.Current.IsZero ? result.Current : version);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Runs a handler, turns the cluster's expected failures into problems, and records the
    /// request's metrics.
    /// </summary>
    private static async Task Guarded(HttpContext context, NodeContext node, string operation, Func<HttpContext, NodeContext, Task> handler)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            await handler(context, node);
        }
        catch (InsufficientReplicasException ex)
        {
            var isWrite = operation is "put" or "delete";
            await Problem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "insufficient-replicas", "Not enough replicas answered",
                $"{ex.Answered} of {ex.Replicas} replicas answered in time; {ex.Required} were required. " +
                (isWrite ? "The write may still have been applied on the replicas that answered and will spread from there; retry it, or lower ?w=." : "Retry, or lower ?r=."),
                json =>
                {
                    json.WriteNumber("required", ex.Required);
                    json.WriteNumber("acknowledged", ex.Answered);
                    json.WriteNumber("replicas", ex.Replicas);
                });
        }
        catch (NodeNotReadyException ex)
        {
            await Problem.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "node-not-ready", "The node is not ready",
                ex.Message + " Retry shortly, or send the request to another node.");
        }
        catch (StorageRefusedException ex)
        {
            await Problem.StorageRefused(context, ex);
        }
        finally
        {
            node.Metrics.Request(operation, context.Response.StatusCode, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>The request's quorum (a null value means the default), or null once a 400 problem has been answered.</summary>
    private static async ValueTask<RequestQuorum?> ReadQuorumOrAnswerAsync(HttpContext context, NodeContext node, string countName)
    {
        if (QuorumParameters.TryParse(context.Request.Query, countName, node.Service.ReplicationFactor, out var required, out var error))
        {
            return new RequestQuorum(required);
        }
        await Problem.WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-quorum", "The quorum is not valid", error);
        return null;
    }

    /// <summary>The request's key, or null once a 400 problem has been answered.</summary>
    private static async ValueTask<string?> ReadKeyOrAnswerAsync(HttpContext context, NodeContext node)
    {
        var error = RequestKey.TryGet(context, node.Options.MaxKeyBytes, out var key);
        if (error == KeyError.None)
        {
            return key;
        }
        await Problem.InvalidKey(context, KeyRules.Describe(error, node.Options.MaxKeyBytes));
        return null;
    }

    private static ValueTask<bool> AllowOnlyQueryAsync(HttpContext context, string[] allowed) => QueryRules.AllowOnlyAsync(context, allowed);

    /// <summary>If-Match and If-None-Match (RFC 9110 section 13), both allowed; false with a 400 text when either is not entity-tags at all.</summary>
    private static bool TryReadPrecondition(HttpContext context, out WritePrecondition precondition, out string error)
    {
        precondition = WritePrecondition.None;
        error = string.Empty;
        var headers = context.Request.Headers;
        bool matchAny = false, noneMatchAny = false;
        EntryVersion[]? match = null, noneMatch = null;
        if (headers.IfMatch.Count > 0)
        {
            if (!EntityTags.TryParse(headers.IfMatch, out matchAny, out var tags))
            {
                error = "If-Match must be * or entity-tags in quotes, e.g. If-Match: \"0000018c2f3a1b00-00000001\" (the ETag a read or write returned).";
                return false;
            }
            match = EntityTags.Versions(tags, strongOnly: true);
        }
        if (headers.IfNoneMatch.Count > 0)
        {
            if (!EntityTags.TryParse(headers.IfNoneMatch, out noneMatchAny, out var tags))
            {
                error = "If-None-Match must be * (only if the key does not exist) or entity-tags in quotes.";
                return false;
            }
            noneMatch = EntityTags.Versions(tags, strongOnly: false);
        }
        precondition = WritePrecondition.FromHeaders(matchAny, match, noneMatchAny, noneMatch);
        return true;
    }

    /// <summary>Reads the whole body, or returns null once it exceeds <paramref name="max"/> bytes (chunked bodies are counted as they arrive).</summary>
    private static async ValueTask<byte[]?> ReadBodyAsync(PipeReader reader, long? contentLength, int max, CancellationToken cancellationToken)
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
            if (read.IsCompleted || (contentLength is { } length && buffer.Length >= length))
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static string Quote(EntryVersion version) => "\"" + version.ToString() + "\"";

}
