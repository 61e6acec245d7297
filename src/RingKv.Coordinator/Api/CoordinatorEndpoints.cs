using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using RingKv.Coordinator.Changes;
using RingKv.Coordinator.Gateway;
using RingKv.Coordinator.Launching;
using RingKv.Coordinator.Membership;
using RingKv.Coordinator.Observability;
using RingKv.Coordinator.Transfers;
using RingKv.Core.Cluster;
using RingKv.Core.Keys;
using RingKv.Core.Transfers;
using RingKv.Node.Api;
using RingKv.Node.Api.OpenApi;
using RingKv.Node.Membership;
using RingKv.Node.Security;

namespace RingKv.Coordinator.Api;

/// <summary>The coordinator's HTTP surface: the cluster API, the nodes' control plane, and the client gateway.</summary>
public static class CoordinatorEndpoints
{
    private const string LocatePrefix = "/v1/cluster/locate/";
    private static readonly TimeSpan MaxMapWait = TimeSpan.FromSeconds(30);

    public static IEndpointRouteBuilder MapCoordinatorApi(this IEndpointRouteBuilder routes, int maxKeyBytes)
    {
        routes.MapGet("/v1/cluster", async (HttpContext context, MembershipService membership, TransferManager transfers, QuietCluster quiet) =>
        {
            if (!await QueryRules.AllowOnlyAsync(context))
            {
                return;
            }
            await ClusterStatusJson.WriteAsync(context, json => ClusterStatusJson.WriteCluster(json, membership.Map, "coordinator", membership.Health.Snapshot(), extra =>
            {
                var group = membership.Log.Status();
                if (group.LeaderId is { } leader)
                {
                    extra.WriteString("leader", leader);
                }
                else
                {
                    extra.WriteNull("leader");
                }
                extra.WriteNumber("term", group.Term);
                // False until this member has applied the group's first committed state (its map
                // is then the cluster's, not an empty placeholder).
                extra.WriteBoolean("committed", membership.Log.Current is not null);
                extra.WriteStartArray("coordinators");
                foreach (var member in group.Members)
                {
                    extra.WriteStartObject();
                    extra.WriteString("id", member.Id);
                    extra.WriteString("url", member.Url);
                    extra.WriteString("role", member.Role);
                    extra.WriteNumber("term", member.Term);
                    if (member.LastContactMs is { } contact)
                    {
                        extra.WriteNumber("lastContactMs", contact);
                    }
                    else
                    {
                        extra.WriteNull("lastContactMs");
                    }
                    extra.WriteEndObject();
                }
                extra.WriteEndArray();
                extra.WriteBoolean("quiet", quiet.IsQuiet());
                extra.WriteNumber("underReplicatedRanges", UnderReplicatedRanges(membership.Map) + transfers.PendingRanges);
                extra.WriteNumber("activeTransfers", transfers.List().Count(t => t.IsActive));
                extra.WriteStartArray("transitions");
                foreach (var transition in membership.History.TakeLast(50))
                {
                    extra.WriteStartObject();
                    extra.WriteString("node", transition.NodeId);
                    extra.WriteString("from", transition.From.ToString().ToLowerInvariant());
                    extra.WriteString("to", transition.To.ToString().ToLowerInvariant());
                    extra.WriteString("at", transition.At);
                    extra.WriteString("reason", transition.Reason);
                    extra.WriteEndObject();
                }
                extra.WriteEndArray();
            }));
        }).DescribeCluster();

        routes.MapGet("/v1/cluster/transfers", async (HttpContext context, TransferManager transfers, TimeProvider time) =>
        {
            if (await QueryRules.AllowOnlyAsync(context))
            {
                await ClusterStatusJson.WriteAsync(context, json => WriteTransfers(json, transfers.List(), time.GetUtcNow()));
            }
        })
            .WithName("transfers").WithTags("cluster").WithSummary("Range transfers: running, and finished within the last hour")
            .AnswersAnyJson(200, "{transfers: [...]}").AnswersProblems((400, "invalid-query")).AnswersProblems(ApiDescription.AuthProblems);

        routes.MapGet("/v1/cluster/changes", async (HttpContext context, MembershipChanges changes) =>
        {
            if (await QueryRules.AllowOnlyAsync(context))
            {
                await ClusterStatusJson.WriteAsync(context, json => WriteChanges(json, changes.List()));
            }
        })
            .WithName("changes").WithTags("cluster").WithSummary("Membership changes (joins, decommissions), oldest first")
            .AnswersAnyJson(200, "{changes: [...]}").AnswersProblems((400, "invalid-query")).AnswersProblems(ApiDescription.AuthProblems);

        routes.MapGet("/v1/cluster/locate/{**key}", async (HttpContext context, MembershipService membership, NodeReads reads) =>
        {
            var error = RequestKey.TryGet(context, LocatePrefix, maxKeyBytes, out var key);
            if (error != KeyError.None)
            {
                await Problem.InvalidKey(context, KeyRules.Describe(error, maxKeyBytes));
                return;
            }
            if (!await QueryRules.AllowOnlyAsync(context, "versions"))
            {
                return;
            }
            var versionsText = context.Request.Query["versions"].ToString();
            if (versionsText is not ("" or "true" or "false"))
            {
                await Problem.InvalidQuery(context, "?versions must be true or false.");
                return;
            }
            var map = membership.Map;
            if (versionsText != "true")
            {
                await ClusterStatusJson.WriteAsync(context, json => ClusterStatusJson.WriteLocate(json, map, key));
                return;
            }
            // Each replica is asked for its own copy with the caller's credentials (admin, checked by
            // ClientAuthentication here and again by every node): no one learns more than /v1/local tells them.
            var encoded = Uri.EscapeDataString(key);
            var authorization = context.Request.Headers.Authorization.ToString();
            var replicas = map.Ring.PreferenceList(Core.Hashing.KeyToken.Of(key), map.ReplicationFactor);
            var copies = await Task.WhenAll(replicas.Select(id => map.FindMember(id) is { } member
                ? reads.LocalCopyAsync(member, encoded, authorization, context.RequestAborted)
                : Task.FromResult(new ReplicaCopy(null, null, false, null, "not a member"))));
            var byId = replicas.Zip(copies).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal);
            await ClusterStatusJson.WriteAsync(context, json => ClusterStatusJson.WriteLocate(json, map, key, (replica, id) => WriteCopy(replica, byId[id])));
        }).DescribeLocate();

        routes.MapPost("/v1/cluster/nodes", async (HttpContext context, NodeLauncher launcher, AuditLog audit) =>
        {
            if (!await QueryRules.AllowOnlyAsync(context) || !await RefuseFieldsAsync(context))
            {
                return;
            }
            audit.OperatorRequest(context, "node-add-requested", "a new node");
            ClusterMember member;
            try
            {
                member = await launcher.LaunchAsync(null, context.RequestAborted);
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                await Problem.WriteAsync(context, 500, "launch-failed", "The node could not be started", ex.Message);
                return;
            }
            context.Response.StatusCode = 201;
            context.Response.Headers.Location = "/v1/cluster";
            await context.Response.WriteAsJsonAsync(new LaunchedNode(member.Id, member.Number, member.ClientUrl, member.InternodeUrl, member.State.ToString().ToLowerInvariant()),
                CoordinatorJsonContext.Default.LaunchedNode, cancellationToken: context.RequestAborted);
        })
            .WithName("addNode").WithTags("cluster").WithSummary("Start a new local node and admit it; it joins in stages")
            .AnswersAnyJson(201, "{id, number, clientUrl, internodeUrl, state}")
            .AnswersProblems((400, "invalid-query"), (500, "launch-failed")).AnswersProblems(ApiDescription.AuthProblems);

        routes.MapDelete("/v1/cluster/nodes/{id}", async (HttpContext context, string id, MembershipService membership, MembershipChanges changes, TransferManager transfers, AuditLog audit) =>
        {
            if (!await QueryRules.AllowOnlyAsync(context, "force"))
            {
                return;
            }
            // Anything but true or false is refused: "?force=yes" must not quietly mean "not forced".
            var forceText = context.Request.Query["force"].ToString();
            if (forceText is not ("" or "true" or "false"))
            {
                await Problem.InvalidQuery(context, "?force must be true or false.");
                return;
            }
            var force = forceText == "true";
            var map = membership.Map;
            if (map.FindMember(id) is not { } member)
            {
                await Problem.WriteAsync(context, 404, "no-such-node", "No such node", $"{id} is not a member. GET /v1/cluster lists the members.");
                return;
            }
            var liveAfter = map.Members.Count(m => m.State == MemberState.Up && m.Id != id);
            if (liveAfter < map.ReplicationFactor)
            {
                await Problem.WriteAsync(context, 409, "below-replication-factor", "Removing this node is refused",
                    $"Removing {id} would leave {liveAfter} live nodes for a replication factor of {map.ReplicationFactor}. Add a node first (./ringkv node add).");
                return;
            }
            if (member.State is MemberState.Dead or MemberState.Suspect)
            {
                if (!force)
                {
                    await Problem.WriteAsync(context, 409, "node-not-live", "The node is not live",
                        $"{id} is {member.State.ToString().ToLowerInvariant()}: it cannot hand its ranges over. Remove it with ?force=true (./ringkv node remove {id} --force): its copies are rebuilt from the surviving replicas.");
                    return;
                }
                audit.OperatorRequest(context, "node-remove-forced", id);
                // The failure monitor rebuilds the copies the eviction owes (committed with it).
                await membership.EvictAsync(id, "removed by an operator (--force)", context.RequestAborted);
                context.Response.StatusCode = 202;
                return;
            }
            audit.OperatorRequest(context, "node-decommission-requested", id);
            var change = changes.Enqueue(ChangeKind.Decommission, id);
            context.Response.StatusCode = 202;
            await context.Response.WriteAsJsonAsync(new ChangeAccepted(change.Id, "decommission", id), CoordinatorJsonContext.Default.ChangeAccepted, cancellationToken: context.RequestAborted);
        })
            .WithName("removeNode").WithTags("cluster").WithSummary("Decommission a live node (its ranges move first), or remove a dead one with ?force=true")
            .WithQuery("force")
            .AnswersAnyJson(202, "{change, kind, node}: the change is queued")
            .AnswersProblems((400, "invalid-query"), (404, "no-such-node"), (409, "below-replication-factor, node-not-live"))
            .AnswersProblems(ApiDescription.AuthProblems);

        routes.MapDelete("/v1/cluster/transfers/{id}", async (HttpContext context, string id, MembershipChanges changes, TransferManager transfers, AuditLog audit) =>
        {
            if (!await QueryRules.AllowOnlyAsync(context))
            {
                return;
            }
            if (transfers.Find(id) is null)
            {
                await Problem.WriteAsync(context, 404, "no-such-transfer", "No such transfer", $"{id} is not a known transfer. GET /v1/cluster/transfers lists them.");
                return;
            }
            audit.OperatorRequest(context, "transfer-cancel-requested", id);
            if (!changes.CancelByTransfer(id))
            {
                await Problem.WriteAsync(context, 409, "transfer-not-cancellable", "The transfer cannot be cancelled",
                    $"{id} already finished, or belongs to re-replication after a failure (which only stops when the copies are back).");
                return;
            }
            context.Response.StatusCode = 202;
        })
            .WithName("cancelTransfer").WithTags("cluster").WithSummary("Cancel a join's or decommission's transfer; the change rolls back")
            .Answers(202, "Cancelling")
            .AnswersProblems((400, "invalid-query"), (404, "no-such-transfer"), (409, "transfer-not-cancellable"))
            .AnswersProblems(ApiDescription.AuthProblems);

        routes.MapPost("/internal/v1/join", async (HttpContext context, MembershipService membership, MembershipChanges changes, AuditLog audit) =>
        {
            const string JoinShape = "Send {\"id\", \"clientUrl\", \"internodeUrl\", \"processId\", \"respUrl\"} as JSON with absolute http(s) URLs (respUrl: redis:// or rediss://, or null).";
            if (!await QueryRules.AllowOnlyAsync(context) || await ReadJsonOrAnswerAsync(context, ControlPlaneJsonContext.Default.JoinRequest, "invalid-join", JoinShape) is not { } request)
            {
                return;
            }
            if (!IsHttpUrl(request.ClientUrl) || !IsHttpUrl(request.InternodeUrl) || (request.RespUrl is { } resp && !IsRespUrl(resp)))
            {
                await Problem.WriteAsync(context, 400, "invalid-join", "The join request is not valid", JoinShape);
                return;
            }
            var joiner = "member process " + request.ProcessId.ToString(CultureInfo.InvariantCulture) + " from " + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            var known = request.Id is { } askedId && membership.Map.FindMember(askedId) is not null;
            var (admitted, startedJoining) = await membership.AdmitAsync(request, context.RequestAborted);
            if (admitted is not { } reply)
            {
                audit.MemberRefused(joiner, request.Id!, membership.WasRemoved(request.Id!) ? "removed earlier" : "evicted earlier");
                if (membership.WasRemoved(request.Id!))
                {
                    await Problem.WriteAsync(context, 409, JoinReply.RemovedProblemType, "This member was removed",
                        $"Member {request.Id} was removed from the ring (decommissioned, or its join rolled back). Stop this process; to add the machine again, start a node with an empty data directory.");
                    return;
                }
                await Problem.WriteAsync(context, 409, JoinReply.EvictedProblemType, "This member was evicted",
                    $"Member {request.Id} was evicted from the ring. Drop its data and join again without an id: it will be admitted as a new member and receive its ranges by transfer.");
                return;
            }
            if (!known)
            {
                audit.MemberAdmitted(joiner, reply.Id, startedJoining ? "joining" : "up", reply.Epoch);
            }
            if (startedJoining)
            {
                changes.Enqueue(ChangeKind.Join, reply.Id);
            }
            await context.Response.WriteAsJsonAsync(reply, ControlPlaneJsonContext.Default.JoinReply, cancellationToken: context.RequestAborted);
        }).ExcludeFromDescription();

        routes.MapPost("/internal/v1/heartbeat", async (HttpContext context, MembershipService membership, QuietCluster quiet) =>
        {
            const string HeartbeatShape = "Send {\"id\", \"epoch\", \"keys\", \"bytes\", \"pendingHints\", \"transfers\"} as JSON.";
            if (!await QueryRules.AllowOnlyAsync(context) || await ReadJsonOrAnswerAsync(context, ControlPlaneJsonContext.Default.HeartbeatRequest, "invalid-heartbeat", HeartbeatShape) is not { } heartbeat)
            {
                return;
            }
            if (string.IsNullOrEmpty(heartbeat.Id))
            {
                await Problem.WriteAsync(context, 400, "invalid-heartbeat", "The heartbeat is not valid", HeartbeatShape);
                return;
            }
            var isMember = membership.Heartbeat(heartbeat);
            await context.Response.WriteAsJsonAsync(new HeartbeatReply(membership.Map.Epoch, isMember, isMember && quiet.IsQuiet()), ControlPlaneJsonContext.Default.HeartbeatReply, cancellationToken: context.RequestAborted);
        }).ExcludeFromDescription();

        routes.MapGet("/internal/v1/map", async (HttpContext context, MembershipService membership) =>
        {
            if (!await QueryRules.AllowOnlyAsync(context, "after", "waitMs"))
            {
                return;
            }
            var query = context.Request.Query;
            long after = 0;
            long waitMs = 0;
            if ((query.TryGetValue("after", out var afterText) && !long.TryParse(afterText, NumberStyles.None, CultureInfo.InvariantCulture, out after)) ||
                (query.TryGetValue("waitMs", out var waitText) && !long.TryParse(waitText, NumberStyles.None, CultureInfo.InvariantCulture, out waitMs)))
            {
                await Problem.InvalidQuery(context, "?after (an epoch) and ?waitMs (milliseconds) must be whole numbers of at least 0.");
                return;
            }
            var wait = TimeSpan.FromMilliseconds(Math.Clamp(waitMs, 0, (long)MaxMapWait.TotalMilliseconds));
            var map = await membership.WaitForNewerAsync(after, wait, context.RequestAborted);
            if (map is null)
            {
                context.Response.StatusCode = 204;
                return;
            }
            var json = map.ToUtf8Json();
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = json.Length;
            await context.Response.Body.WriteAsync(json, context.RequestAborted);
        }).ExcludeFromDescription();

        // One route per method, described as on a node (the gateway answers the same requests the
        // same way); other methods get 405 method-not-allowed from routing, as a node gives them.
        routes.MapMethods("/v1/kv/{**key}", [HttpMethods.Get], (HttpContext context, GatewayProxy gateway) => gateway.ForwardAsync(context)).DescribeGetKey(head: false);
        routes.MapMethods("/v1/kv/{**key}", [HttpMethods.Head], (HttpContext context, GatewayProxy gateway) => gateway.ForwardAsync(context)).DescribeGetKey(head: true);
        routes.MapMethods("/v1/kv/{**key}", [HttpMethods.Put], (HttpContext context, GatewayProxy gateway) => gateway.ForwardAsync(context)).DescribePutKey();
        routes.MapMethods("/v1/kv/{**key}", [HttpMethods.Delete], (HttpContext context, GatewayProxy gateway) => gateway.ForwardAsync(context)).DescribeDeleteKey();
        routes.MapMethods("/v1/kv", [HttpMethods.Get], (HttpContext context, GatewayProxy gateway) => gateway.ForwardAsync(context)).DescribeListKeys(head: false);
        routes.MapMethods("/v1/kv", [HttpMethods.Head], (HttpContext context, GatewayProxy gateway) => gateway.ForwardAsync(context)).DescribeListKeys(head: true);
        return routes;
    }

    /// <summary>Membership changes, oldest first: one runs at a time, the others wait their turn (queued) or are history.</summary>
    private static void WriteChanges(System.Text.Json.Utf8JsonWriter json, IReadOnlyList<MembershipChange> changes)
    {
        json.WriteStartObject();
        json.WriteStartArray("changes");
        foreach (var change in changes)
        {
            json.WriteStartObject();
            json.WriteString("id", change.Id);
            json.WriteString("kind", change.Kind.ToString().ToLowerInvariant());
            json.WriteString("node", change.NodeId);
            json.WriteString("state", change.State.ToString().ToLowerInvariant());
            json.WriteString("createdAt", change.CreatedAt);
            if (change.FinishedAt is { } finished)
            {
                json.WriteString("finishedAt", finished);
            }
            json.WriteStartArray("transfers");
            foreach (var id in change.TransferIds)
            {
                json.WriteStringValue(id);
            }
            json.WriteEndArray();
            if (change.Error is { } error)
            {
                json.WriteString("error", error);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteTransfers(System.Text.Json.Utf8JsonWriter json, IReadOnlyList<TransferStatus> transfers, DateTimeOffset now)
    {
        json.WriteStartObject();
        json.WriteStartArray("transfers");
        foreach (var transfer in transfers)
        {
            json.WriteStartObject();
            json.WriteString("id", transfer.Id);
            json.WriteString("state", transfer.State.ToString().ToLowerInvariant());
            json.WriteString("reason", transfer.Reason);
            json.WriteString("destination", transfer.Transfer.Destination);
            json.WriteStartArray("sources");
            foreach (var source in transfer.Transfer.Ranges.SelectMany(r => r.Sources).Distinct(StringComparer.Ordinal))
            {
                json.WriteStringValue(source);
            }
            json.WriteEndArray();
            json.WriteNumber("rangesTotal", transfer.RangesTotal);
            json.WriteNumber("rangesDone", transfer.RangesDone);
            json.WriteNumber("rangesLeft", transfer.RangesTotal - transfer.RangesDone);
            json.WriteNumber("ringFraction", Math.Round(transfer.Transfer.Fraction, 6));
            json.WriteNumber("keys", transfer.Keys);
            json.WriteNumber("bytes", transfer.Bytes);
            json.WriteNumber("keysPerSecond", Math.Round(transfer.Rate(now), 1));
            json.WriteString("createdAt", transfer.CreatedAt);
            if (transfer.StartedAt is { } started)
            {
                json.WriteString("startedAt", started);
            }
            if (transfer.FinishedAt is { } finished)
            {
                json.WriteString("finishedAt", finished);
            }
            if (transfer.Error is { } error)
            {
                json.WriteString("error", error);
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>Token ranges whose preference list has fewer than RF distinct members that are up.</summary>
    public static int UnderReplicatedRanges(ClusterMap map) => ClusterInsightEndpoints.UnderReplicated(map).Count;

    private static void WriteCopy(System.Text.Json.Utf8JsonWriter json, ReplicaCopy copy)
    {
        if (copy.Present is { } present)
        {
            json.WriteBoolean("present", present);
        }
        else
        {
            json.WriteNull("present");
        }
        json.WriteString("version", copy.Version);
        if (copy.Present == true)
        {
            json.WriteBoolean("deleted", copy.Deleted);
        }
        if (copy.ExpiresAt is { } expires)
        {
            json.WriteString("expiresAt", expires);
        }
        if (copy.Error is { } error)
        {
            json.WriteString("error", error);
        }
    }

    private static bool IsRespUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "redis" or "rediss" && url.Port > 0;

    private static bool IsHttpUrl(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);

    /// <summary>The control plane's JSON body, or null once a problem has been answered (415, 400, or the body limits' 4xx).</summary>
    /// <summary>
    /// POST /v1/cluster/nodes starts a new local node and takes nothing: no body, or <c>{}</c>. A
    /// body it would ignore (a node's URL, say, from someone who believes it registers a remote
    /// node) is refused by name rather than answered with a local node nobody asked for.
    /// </summary>
    private static async Task<bool> RefuseFieldsAsync(HttpContext context)
    {
        const string Advice = "POST /v1/cluster/nodes starts one more node on this machine and takes no fields (send no body, or {}). A node on another machine joins by itself: ringkv node --join <this coordinator's URL>.";
        if (context.Request.ContentLength is null or 0 && context.Request.Headers.TransferEncoding.Count == 0)
        {
            return true;
        }
        if (!context.Request.HasJsonContentType())
        {
            await Problem.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "The body must be JSON, if any", Advice);
            return false;
        }
        try
        {
            using var body = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            if (body.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                await Problem.WriteAsync(context, 400, "invalid-body", "The body is not a JSON object", Advice);
                return false;
            }
            var fields = body.RootElement.EnumerateObject().Select(p => "'" + p.Name + "'").ToList();
            if (fields.Count > 0)
            {
                await Problem.WriteAsync(context, 400, "unknown-field", "The body has fields this endpoint does not take",
                    $"Not understood: {string.Join(", ", fields)}. " + Advice);
                return false;
            }
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            await Problem.WriteAsync(context, 400, "invalid-json", "The body is not valid JSON", Advice);
            return false;
        }
        catch (BadHttpRequestException ex)
        {
            await Problem.WriteAsync(context, ex.StatusCode, "bad-request-body", "The request body could not be read", ex.Message);
            return false;
        }
    }

    private static async Task<T?> ReadJsonOrAnswerAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, string problemType, string shape)
        where T : class
    {
        if (!context.Request.HasJsonContentType())
        {
            await Problem.WriteAsync(context, StatusCodes.Status415UnsupportedMediaType, "unsupported-media-type", "The body must be JSON",
                "Send the body with Content-Type: application/json. " + shape);
            return null;
        }
        try
        {
            if (await context.Request.ReadFromJsonAsync(type, context.RequestAborted) is { } value)
            {
                return value;
            }
        }
        catch (System.Text.Json.JsonException)
        {
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own limits (body size, minimum data rate, a body cut short) are the client's fault: its 4xx, not a 500.
            await Problem.WriteAsync(context, ex.StatusCode, "bad-request-body", "The request body could not be read", ex.Message);
            return null;
        }
        await Problem.WriteAsync(context, 400, problemType, "The request is not valid", shape);
        return null;
    }
}

public sealed record ChangeAccepted(string Change, string Kind, string Node);

public sealed record LaunchedNode(string Id, uint Number, string ClientUrl, string InternodeUrl, string State);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
[System.Text.Json.Serialization.JsonSerializable(typeof(LaunchedNode))]
[System.Text.Json.Serialization.JsonSerializable(typeof(ChangeAccepted))]
public sealed partial class CoordinatorJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
