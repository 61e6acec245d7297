using Microsoft.AspNetCore.Builder;

namespace RingKv.Node.Api.OpenApi;

/// <summary>
/// The OpenAPI description of the key-value endpoints (docs/API.md), shared by the nodes and the
/// coordinator's gateway, which answers the same requests the same way.
/// </summary>
public static class KvApiDescription
{
    private const string Tag = "keys";

    private static readonly (int, string)[] QuorumProblems =
    [
        (503, "insufficient-replicas: fewer replicas than required answered within the request timeout (with required, acknowledged, replicas); node-not-ready; no-nodes (coordinator: no node is up)"),
        (502, "node-unreachable (coordinator only: the node it forwarded to did not answer)"),
    ];

    /// <summary>A write's answers when a node's store refuses it: not acknowledged either way.</summary>
    private static readonly (int, string)[] WriteProblems =
    [
        (503, "insufficient-replicas: fewer replicas than required acknowledged within the request timeout (with required, acknowledged, replicas); storage-recovering: the node's engine is being reopened after a failed write or sync, nothing acknowledged; node-not-ready; no-nodes (coordinator: no node is up)"),
        (502, "node-unreachable (coordinator only: the node it forwarded to did not answer)"),
        (507, "insufficient-storage: the node's data disk is full (below --min-free-disk); nothing was stored, send the write to another node"),
    ];

    public static IEndpointConventionBuilder DescribeGetKey(this IEndpointConventionBuilder builder, bool head) => builder
        .WithName(head ? "headKey" : "getKey")
        .WithTags(Tag)
        .WithSummary(head ? "The key's headers (ETag, Content-Type, expiry) without its value" : "Read a key")
        .WithQuery("r", "consistency")
        .WithRequestHeaders("If-None-Match")
        .Answers(200, "The stored bytes, with the Content-Type they were stored with", head ? null : "*/*", "ETag", "X-RingKV-Expires-At")
        .Answers(304, "Unchanged: If-None-Match named the current version", null, "ETag")
        .AnswersProblems((400, "invalid-key, invalid-query, invalid-quorum"), (404, "not-found: absent, deleted or expired"))
        .AnswersProblems(QuorumProblems)
        .AnswersProblems(ApiDescription.AuthProblems);

    public static IEndpointConventionBuilder DescribePutKey(this IEndpointConventionBuilder builder) => builder
        .WithName("putKey")
        .WithTags(Tag)
        .WithSummary("Store a value (any bytes; a JSON content type requires one valid JSON document)")
        .WithQuery("ttl", "w", "consistency")
        .WithRequestHeaders("If-Match", "If-None-Match")
        .AcceptsAnyBody()
        .Answers(204, "Stored; the ETag is the version stored", null, "ETag")
        .AnswersProblems(
            (400, "invalid-key, invalid-json, invalid-ttl, invalid-query, invalid-quorum, invalid-header, ambiguous-framing, bad-request-body"),
            (408, "bad-request-body: the body came too slowly"),
            (412, "precondition-failed: If-Match or If-None-Match did not hold"),
            (413, "value-too-large"))
        .AnswersProblems(WriteProblems)
        .AnswersProblems(ApiDescription.AuthProblems);

    public static IEndpointConventionBuilder DescribeDeleteKey(this IEndpointConventionBuilder builder) => builder
        .WithName("deleteKey")
        .WithTags(Tag)
        .WithSummary("Delete a key (idempotent: 204 also when absent)")
        .WithQuery("w", "consistency")
        .WithRequestHeaders("If-Match")
        .Answers(204, "Deleted (a tombstone with a new version)", null, "ETag")
        .AnswersProblems(
            (400, "invalid-key, invalid-query, invalid-quorum, invalid-header"),
            (412, "precondition-failed: If-Match did not hold"))
        .AnswersProblems(WriteProblems)
        .AnswersProblems(ApiDescription.AuthProblems);

    public static IEndpointConventionBuilder DescribeListKeys(this IEndpointConventionBuilder builder, bool head)
    {
        builder
            .WithName(head ? "headKeys" : "listKeys")
            .WithTags(Tag)
            .WithSummary(head ? "The headers of a page of keys" : "List keys, a page at a time, in a stable order")
            .WithQuery("prefix", "limit", "cursor");
        (head ? builder.Answers(200, "A page of keys (headers only)") : builder.AnswersJson<ApiKeyPage>(200, "A page of keys; follow cursor until it is null"))
            .AnswersProblems((400, "invalid-query, invalid-limit, invalid-cursor"))
            .AnswersProblems(QuorumProblems)
            .AnswersProblems(ApiDescription.AuthProblems);
        return builder;
    }

    public static IEndpointConventionBuilder DescribeCluster(this IEndpointConventionBuilder builder) => builder
        .WithName("cluster")
        .WithTags("cluster")
        .WithSummary("The cluster: epoch, replication factor, members with their state, URLs, ownership, keys and bytes (docs/API.md, Cluster endpoints)")
        .AnswersAnyJson(200, "The cluster's status")
        .AnswersProblems((400, "invalid-query"), (503, "node-not-ready: no cluster map yet"))
        .AnswersProblems(ApiDescription.AuthProblems);

    public static IEndpointConventionBuilder DescribeLocate(this IEndpointConventionBuilder builder) => builder
        .WithName("locate")
        .WithTags("cluster")
        .WithSummary("The key's replicas, in preference-list order: key, token, epoch, replicas [id, clientUrl, state]")
        .AnswersAnyJson(200, "The preference list")
        .AnswersProblems((400, "invalid-key, invalid-query"), (503, "node-not-ready: no cluster map yet"))
        .AnswersProblems(ApiDescription.AuthProblems);
}
