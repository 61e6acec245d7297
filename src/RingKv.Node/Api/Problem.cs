using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace RingKv.Node.Api;

/// <summary>
/// RFC 9457 problem details. Every error the API answers is one of these, with a stable
/// <c>type</c> per cause that clients can switch on, and a <c>detail</c> that says what to do.
/// </summary>
public static class Problem
{
    public const string ContentType = "application/problem+json";

    public static Task WriteAsync(HttpContext context, int status, string type, string title, string detail, Action<Utf8JsonWriter>? extra = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }
        response.StatusCode = status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return Task.CompletedTask;
        }
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", type);
            json.WriteString("title", title);
            json.WriteNumber("status", status);
            json.WriteString("detail", detail);
            extra?.Invoke(json);
            json.WriteEndObject();
        }
        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }

    public static Task InvalidKey(HttpContext context, string detail) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-key", "The key is not valid", detail);

    public static Task InvalidQuery(HttpContext context, string detail) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-query", "A query parameter is not valid", detail);

    public static Task InvalidHeader(HttpContext context, string detail) =>
        WriteAsync(context, StatusCodes.Status400BadRequest, "invalid-header", "A request header is not valid", detail);

    public static Task NotFound(HttpContext context, string key) =>
        WriteAsync(context, StatusCodes.Status404NotFound, "not-found", "No such key",
            $"The key '{key}' does not exist, was deleted or has expired. Write it with PUT /v1/kv/{{key}}.");

    public static Task PreconditionFailed(HttpContext context, string detail) =>
        WriteAsync(context, StatusCodes.Status412PreconditionFailed, "precondition-failed", "The precondition did not hold", detail);

    /// <summary>
    /// 507 <c>insufficient-storage</c> (the data disk is full) or 503 <c>storage-recovering</c> (the
    /// engine is being reopened after a failed write or sync). Either way the write was not
    /// acknowledged, and another node may take it.
    /// </summary>
    public static Task StorageRefused(HttpContext context, Storage.StorageRefusedException refused) =>
        refused.State == Storage.StorageState.Full
            ? WriteAsync(context, StatusCodes.Status507InsufficientStorage, "insufficient-storage", "The node's disk is full",
                refused.Message + " Nothing was stored; send the write to another node, which stores it on the key's other replicas.")
            : WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "storage-recovering", "The node's storage is recovering",
                refused.Message + " Nothing was acknowledged; retry shortly, or send the write to another node.");

    public static Task ValueTooLarge(HttpContext context, long maxValueBytes) =>
        WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "value-too-large", "The value is too large",
            $"Values are limited to {maxValueBytes} bytes on this cluster. Split the value, or raise --max-value-bytes on every node.");
}
