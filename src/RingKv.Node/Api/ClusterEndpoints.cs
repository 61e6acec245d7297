using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RingKv.Core.Keys;
using RingKv.Node.Api.OpenApi;
using RingKv.Node.Hosting;
using RingKv.Node.Membership;
using RingKv.Storage;

namespace RingKv.Node.Api;

/// <summary>
/// The read-only cluster API every node serves, and <c>/v1/local</c>: this node's own replica,
/// never forwarded, so operators and tests can see where copies really are.
/// </summary>
public static class ClusterEndpoints
{
    private const string LocalPrefix = "/v1/local/kv/";
    private const string LocatePrefix = "/v1/cluster/locate/";

    public static IEndpointRouteBuilder MapNodeClusterApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/cluster", (Func<HttpContext, Task>)ClusterAsync).DescribeCluster();
        routes.MapGet("/v1/cluster/locate/{**key}", (Func<HttpContext, Task>)LocateAsync).DescribeLocate();
        routes.MapGet("/v1/local/kv/{**key}", (Func<HttpContext, Task>)LocalAsync)
            .WithName("localKey").WithTags("cluster")
            .WithSummary("This node's own copy of a key, never forwarded: key, version, deleted, contentType, value (base64), expiresAt")
            .AnswersAnyJson(200, "The local copy")
            .AnswersProblems((400, "invalid-key, invalid-query"), (404, "not-found: this node holds no copy"))
            .AnswersProblems(ApiDescription.AuthProblems);
        return routes;
    }

    /// <summary>The coordinator's view (with heartbeats and figures) when it answers; else this node's own map.</summary>
    private static async Task ClusterAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<NodeOptions>();
        var view = context.RequestServices.GetRequiredService<ClusterView>();
        if (!await QueryRules.AllowOnlyAsync(context))
        {
            return;
        }
        foreach (var coordinator in options.Join is { } join ? Membership.CoordinatorAddresses.Parse(join) : [])
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(coordinator, "v1/cluster"));
                // The caller's own credentials go along: the coordinator checks them as it would its own clients'.
                if (context.Request.Headers.Authorization.Count > 0)
                {
                    request.Headers.TryAddWithoutValidation("Authorization", context.Request.Headers.Authorization.ToString());
                }
                using var response = await context.RequestServices.GetRequiredService<CoordinatorClient>().Http.SendAsync(request, context.RequestAborted);
                if (response.IsSuccessStatusCode)
                {
                    context.Response.ContentType = "application/json";
                    await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // That member is down: the next one, else this node's map below.
            }
        }
        if (view.Map is not { } map)
        {
            await Problem.WriteAsync(context, 503, "node-not-ready", "No cluster map", "This node has no cluster map yet (standalone, or not admitted). Start it with --join <coordinator-url>.");
            return;
        }
        await ClusterStatusJson.WriteAsync(context, json => ClusterStatusJson.WriteCluster(json, map, "node", null));
    }

    private static async Task LocateAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<NodeOptions>();
        var view = context.RequestServices.GetRequiredService<ClusterView>();
        var error = RequestKey.TryGet(context, LocatePrefix, options.MaxKeyBytes, out var key);
        if (error != KeyError.None)
        {
            await Problem.InvalidKey(context, KeyRules.Describe(error, options.MaxKeyBytes));
            return;
        }
        if (!await QueryRules.AllowOnlyAsync(context))
        {
            return;
        }
        if (view.Map is not { } map)
        {
            await Problem.WriteAsync(context, 503, "node-not-ready", "No cluster map", "This node has no cluster map yet. Retry shortly.");
            return;
        }
        await ClusterStatusJson.WriteAsync(context, json => ClusterStatusJson.WriteLocate(json, map, key));
    }

    private static async Task LocalAsync(HttpContext context)
    {
        var options = context.RequestServices.GetRequiredService<NodeOptions>();
        var engine = context.RequestServices.GetRequiredService<IStorageEngine>();
        var error = RequestKey.TryGet(context, LocalPrefix, options.MaxKeyBytes, out var key);
        if (error != KeyError.None)
        {
            await Problem.InvalidKey(context, KeyRules.Describe(error, options.MaxKeyBytes));
            return;
        }
        if (!await QueryRules.AllowOnlyAsync(context))
        {
            return;
        }
        if (engine.Get(key) is not { } entry)
        {
            await Problem.WriteAsync(context, 404, "not-found", "No local replica", $"This node holds no copy of '{key}' (not even a tombstone).");
            return;
        }
        await ClusterStatusJson.WriteAsync(context, json =>
        {
            json.WriteStartObject();
            json.WriteString("key", entry.Key);
            json.WriteString("version", entry.Version.ToString());
            json.WriteBoolean("deleted", entry.Deleted);
            json.WriteString("contentType", entry.ContentType);
            json.WriteBase64String("value", entry.Value);
            if (entry.ExpiresAtMs != 0)
            {
                json.WriteString("expiresAt", DateTimeOffset.FromUnixTimeMilliseconds(entry.ExpiresAtMs).ToString("O", CultureInfo.InvariantCulture));
            }
            json.WriteEndObject();
        });
    }
}
