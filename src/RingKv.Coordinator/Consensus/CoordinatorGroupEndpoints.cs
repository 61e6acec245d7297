using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RingKv.Coordinator.Membership;
using RingKv.Node.Api;

namespace RingKv.Coordinator.Consensus;

/// <summary>
/// How a coordinator group looks from outside like one coordinator. Every member answers reads of
/// the map itself; a change sent to a follower (adding or removing a node, cancelling a transfer,
/// a node's join or heartbeat) is passed to the leader as it came, and its answer passed back, so
/// callers never follow a redirect. Members poll each other's role for operators.
/// </summary>
public static class CoordinatorGroupEndpoints
{
    /// <summary>Set on a request a follower passed on: the receiver must lead, never pass it on again.</summary>
    public const string ForwardedHeader = "X-RingKV-Forwarded-To-Leader";

    /// <summary>How long a change sent to a member without a leader waits for one (an election takes about a second).</summary>
    public static readonly TimeSpan LeaderWait = TimeSpan.FromSeconds(5);

    public static IEndpointRouteBuilder MapCoordinatorGroup(this IEndpointRouteBuilder routes)
    {
        // What this member is, for the other members (behind the cluster secret like all of /internal).
        routes.MapGet("/internal/v1/coordinator", (MembershipService membership) =>
        {
            var status = membership.Log.Status();
            var self = status.Members.FirstOrDefault(m => m.Id == status.MemberId);
            return Results.Json(new MemberRole(status.MemberId, membership.Log.IsLeader ? "leader" : self?.Role ?? "follower", status.Term, status.LeaderId, membership.Map.Epoch),
                CoordinatorGroupJsonContext.Default.MemberRole);
        }).ExcludeFromDescription();

        // A single coordinator's state left in this member's data directory, for the first leader of
        // a group upgraded in place (it may be another member).
        routes.MapGet("/internal/v1/coordinator/legacy-state", (Hosting.CoordinatorOptions options) =>
            LocalControlLog.LoadLegacy(Path.GetFullPath(options.DataDirectory)) is { } legacy
                ? Results.Bytes(legacy.ToUtf8Json(), "application/json")
                : Results.NotFound()).ExcludeFromDescription();
        return routes;
    }

    /// <summary>Passes changes that only the leader may make to the leader, when this member does not lead.</summary>
    public static IApplicationBuilder UseLeaderForwarding(this IApplicationBuilder app, RaftControlLog log, HttpClient toLeader) =>
        app.Use(async (context, next) =>
        {
            var request = context.Request;
            // Every read of the cluster API is the leader's answer: transfers and changes live only
            // there, and a follower's map may lag the committed one (a member just restarted
            // answers from its own log until the leader has caught it up), so a key located
            // through one member would otherwise disagree with the map another just showed.
            var readsLeaderState = HttpMethods.IsGet(request.Method) && request.Path.StartsWithSegments("/v1/cluster");
            var changes = !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) &&
                (request.Path.StartsWithSegments("/v1/cluster") || request.Path.Equals("/internal/v1/join") || request.Path.Equals("/internal/v1/heartbeat"));
            if ((!readsLeaderState && !changes) || log.IsLeader)
            {
                await next(context);
                return;
            }
            if (request.Headers.ContainsKey(ForwardedHeader))
            {
                // Passed on by a member that took this one for the leader: it is not (any more).
                await NoLeaderAsync(context, "This member was asked as the leader, but does not lead the group now.");
                return;
            }
            // Control-plane requests are small: read once, so the request can go to another leader
            // if the one asked turns out not to be it (an election under way).
            byte[] body;
            using (var buffer = new MemoryStream())
            {
                await request.Body.CopyToAsync(buffer, context.RequestAborted);
                body = buffer.ToArray();
            }
            var patience = Stopwatch.StartNew();
            string? lastProblem = null;
            while (!context.RequestAborted.IsCancellationRequested)
            {
                if (log.IsLeader)
                {
                    request.Body = new MemoryStream(body);
                    await next(context);
                    return;
                }
                if (log.Leader is { } leader)
                {
                    using var response = await TrySendAsync(toLeader, leader, context, body, log.MemberId);
                    // A leader that answers, whatever it answers, is the answer; one that says it does not lead is retried.
                    if (response is not null && !(response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && response.Headers.Contains(NoLeaderHeader)))
                    {
                        await CopyAsync(response, context);
                        return;
                    }
                    lastProblem = response is null ? $"{leader.Id} ({leader.Url}) did not answer" : $"{leader.Id} does not lead any more";
                }
                if (patience.Elapsed >= LeaderWait || !changes)
                {
                    break;
                }
                // Right after an election a member may not know the new leader yet: it learns of it
                // at the leader's first heartbeat. A change waits for that rather than failing.
                await Task.Delay(100, context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            if (readsLeaderState)
            {
                // No leader to ask: this member's own view (the map it applied; health unknown).
                request.Body = new MemoryStream(body);
                await next(context);
                return;
            }
            await NoLeaderAsync(context, "An election is under way, or this member cannot reach a majority of the group" +
                (lastProblem is null ? "" : $" ({lastProblem})") + ". Retry in a second, or ask another member.");
        });

    private const string NoLeaderHeader = "X-RingKV-No-Leader";

    private static Task NoLeaderAsync(HttpContext context, string detail)
    {
        context.Response.Headers.RetryAfter = "1";
        context.Response.Headers[NoLeaderHeader] = "1";
        return Problem.WriteAsync(context, 503, "no-leader", "The coordinator group has no leader", detail);
    }

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Content-Length", "Proxy-Connection", "TE", "Trailer",
    };

    private static async Task<HttpResponseMessage?> TrySendAsync(HttpClient http, CoordinatorPeer leader, HttpContext context, byte[] body, string self)
    {
        var request = context.Request;
        var message = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(leader.Url, request.Path.Value!.TrimStart('/') + request.QueryString.Value));
        if (body.Length > 0 || !HttpMethods.IsGet(request.Method))
        {
            message.Content = new ByteArrayContent(body);
        }
        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }
            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values) && message.Content is not null)
            {
                message.Content.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
        message.Headers.TryAddWithoutValidation(ForwardedHeader, self);
        try
        {
            return await http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            message.Dispose();
        }
    }

    private static async Task CopyAsync(HttpResponseMessage response, HttpContext context)
    {
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }
        await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}

public sealed record MemberRole(string Id, string Role, long Term, string? Leader, long Epoch);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(MemberRole))]
public sealed partial class CoordinatorGroupJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
