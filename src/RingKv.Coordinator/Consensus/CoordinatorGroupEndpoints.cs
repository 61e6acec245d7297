using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RingKv.Coordinator.Membership;
using RingKv.Node.Api;
using Yarp.ReverseProxy.Forwarder;

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
    public static IApplicationBuilder UseLeaderForwarding(this IApplicationBuilder app, RaftControlLog log, HttpMessageInvoker toLeader)
    {
        var forwarder = app.ApplicationServices.GetRequiredService<IHttpForwarder>();
        return app.Use(async (context, next) =>
        {
            var request = context.Request;
            var readsLeaderState = HttpMethods.IsGet(request.Method) &&
                (request.Path.Equals("/v1/cluster") || request.Path.Equals("/v1/cluster/transfers") || request.Path.Equals("/v1/cluster/changes"));
            var changes = !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) &&
                (request.Path.StartsWithSegments("/v1/cluster") || request.Path.Equals("/internal/v1/join") || request.Path.Equals("/internal/v1/heartbeat"));
            if ((!readsLeaderState && !changes) || log.IsLeader)
            {
                await next(context);
                return;
            }
            // Right after an election a member may not know the new leader yet: it learns of it at the
            // leader's first heartbeat. A change waits for that rather than failing.
            var patience = Stopwatch.StartNew();
            while (changes && !request.Headers.ContainsKey(ForwardedHeader) && log.Leader is null && !log.IsLeader &&
                patience.Elapsed < LeaderWait && !context.RequestAborted.IsCancellationRequested)
            {
                await Task.Delay(50, context.RequestAborted).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            if (log.IsLeader)
            {
                await next(context);
                return;
            }
            if (request.Headers.ContainsKey(ForwardedHeader) || log.Leader is not { } leader)
            {
                if (readsLeaderState)
                {
                    // No leader to ask: this member's own view (the map it applied; health unknown).
                    await next(context);
                    return;
                }
                context.Response.Headers.RetryAfter = "1";
                await Problem.WriteAsync(context, 503, "no-leader", "The coordinator group has no leader",
                    "An election is under way, or this member cannot reach a majority of the group. Retry in a second, or ask another member.");
                return;
            }
            request.Headers[ForwardedHeader] = log.MemberId;
            var error = await forwarder.SendAsync(context, leader.Url.ToString().TrimEnd('/'), toLeader, new ForwarderRequestConfig { ActivityTimeout = TimeSpan.FromSeconds(70) });
            if (error != ForwarderError.None && !context.Response.HasStarted)
            {
                context.Response.Clear();
                context.Response.Headers.RetryAfter = "1";
                await Problem.WriteAsync(context, 503, "no-leader", "The coordinator group's leader did not answer",
                    $"{leader.Id} ({leader.Url}) leads, but the request could not be passed to it ({error}). Retry in a second.");
            }
        });
    }
}

public sealed record MemberRole(string Id, string Role, long Term, string? Leader, long Epoch);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(MemberRole))]
public sealed partial class CoordinatorGroupJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
