using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using RingKv.Coordinator.Membership;
using RingKv.Core.Cluster;
using RingKv.Core.Hashing;
using RingKv.Core.Keys;
using RingKv.Node.Api;
using RingKv.Node.Security.Tls;

namespace RingKv.Coordinator.Gateway;

/// <summary>
/// The coordinator as a client gateway: <c>./ringkv up</c> users get one URL. Requests under
/// /v1/kv are validated here (so a key means the same thing at the gateway and at the node), then
/// forwarded to an up node, which coordinates them. A node that refuses the connection is skipped:
/// nothing was sent to it, so even a write is safe to send to the next one. So is a node that
/// answers 507 <c>insufficient-storage</c>: its disk is full, and it refused the write before
/// sending it anywhere.
/// <para>
/// A request for one key goes to one of that key's replicas (taken in turn, the others after
/// them), as a partition-aware Dynamo client would send it: a node that holds a copy reads its own
/// and asks one peer instead of two, and under <c>--synced-acks one</c> it syncs its own copy
/// while its peers answer from their logs. Listings go to any up node, in turn.
/// </para>
/// </summary>
public sealed class GatewayProxy(MembershipService membership, ClusterTls tls, int maxKeyBytes, int maxValueBytes)
{
    private static readonly string[] ForwardedRequestHeaders = ["Content-Type", "If-Match", "If-None-Match", "Accept", "Authorization"];
    private static readonly string[] ForwardedResponseHeaders = ["ETag", "X-RingKV-Expires-At", "Cache-Control"];

    // With TLS, nodes' client ports are https and their certificates must chain to the cluster's authority.
    private readonly HttpClient _http = new(tls.Apply(new SocketsHttpHandler
    {
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
        MaxConnectionsPerServer = 256,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
    }))
    { Timeout = TimeSpan.FromSeconds(30) };

    private int _next;

    public async Task ForwardAsync(HttpContext context)
    {
        var pathAndQuery = CanonicalTarget(context, out var keyError, out var key);
        if (pathAndQuery is null)
        {
            await Problem.InvalidKey(context, KeyRules.Describe(keyError, maxKeyBytes));
            return;
        }
        byte[]? body = null;
        if (context.Request.ContentLength > maxValueBytes)
        {
            await Problem.ValueTooLarge(context, maxValueBytes);
            return;
        }
        if (HttpMethods.IsPut(context.Request.Method) || context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                body = await ReadBodyAsync(context.Request.Body, maxValueBytes, context.RequestAborted);
            }
            catch (BadHttpRequestException ex)
            {
                // Kestrel's limits (minimum data rate against slow clients, a body cut short before its
                // Content-Length) are the client's fault: its own 4xx, never a 500.
                await Problem.WriteAsync(context, ex.StatusCode, "bad-request-body", "The request body could not be read", ex.Message);
                return;
            }
            if (body is null)
            {
                await Problem.ValueTooLarge(context, maxValueBytes);
                return;
            }
        }
        var candidates = Candidates(membership.Map, key);
        if (candidates.Count == 0)
        {
            await Problem.WriteAsync(context, 503, "no-nodes", "No node is up", "The cluster has no node in state up. Add one with ./ringkv node add.");
            return;
        }
        var unavailableRetries = 0;
        foreach (var node in candidates)
        {
            using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), node.ClientUrl.TrimEnd('/') + pathAndQuery);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
            }
            foreach (var name in ForwardedRequestHeaders)
            {
                if (context.Request.Headers.TryGetValue(name, out var values))
                {
                    if (!request.Headers.TryAddWithoutValidation(name, values.ToArray()))
                    {
                        request.Content ??= new ByteArrayContent([]);
                        request.Content.Headers.TryAddWithoutValidation(name, values.ToArray());
                    }
                }
            }
            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            }
            catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
            {
                continue;
            }
            catch (HttpRequestException) when (!context.RequestAborted.IsCancellationRequested && SafeToRepeat(context.Request))
            {
                // The node died under the request. A read, or a write whose outcome does not depend
                // on what is stored (unconditional PUT or DELETE: repeating it stores the same bytes
                // again, with a newer version), goes to the next replica, so a client of the
                // printed URL never sees one process's death.
                continue;
            }
            catch (HttpRequestException ex)
            {
                await Problem.WriteAsync(context, 502, "node-unreachable", "The node did not answer", $"Node {node.Id} failed while handling the request ({ex.Message}). The request may or may not have been applied; retry it.");
                return;
            }
            if (response.StatusCode == HttpStatusCode.InsufficientStorage && node != candidates[^1])
            {
                response.Dispose();
                continue;
            }
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable && SafeToRepeat(context.Request) && node != candidates[^1] && unavailableRetries++ == 0)
            {
                // The node could not serve it (too few replicas answered it, no map yet, its engine
                // reopening): another replica may, for a request that is safe to repeat. Once: a
                // node that waited out its quorum timeout has already cost the client that long.
                response.Dispose();
                continue;
            }
            using (response)
            {
                context.Response.StatusCode = (int)response.StatusCode;
                foreach (var name in ForwardedResponseHeaders)
                {
                    if (response.Headers.TryGetValues(name, out var values))
                    {
                        context.Response.Headers[name] = values.ToArray();
                    }
                }
                if (response.Content.Headers.ContentType is { } contentType)
                {
                    context.Response.ContentType = contentType.ToString();
                }
                if (response.Content.Headers.ContentLength is { } length)
                {
                    context.Response.ContentLength = length;
                }
                if (!HttpMethods.IsHead(context.Request.Method))
                {
                    await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
                }
            }
            return;
        }
        await Problem.WriteAsync(context, 503, "no-nodes", "No node answered", $"None of the {candidates.Count} up nodes accepted a connection.");
    }

    /// <summary>Whether a request may be sent again to another node after the first died under it.</summary>
    private static bool SafeToRepeat(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) ||
        ((HttpMethods.IsPut(request.Method) || HttpMethods.IsDelete(request.Method)) &&
         !request.Headers.ContainsKey("If-Match") && !request.Headers.ContainsKey("If-None-Match"));

    /// <summary>
    /// The up nodes to try, in order: for a key, its up replicas first (starting with a different
    /// one each time, so their load is shared), then the other up nodes; for a listing, every up
    /// node, starting with a different one each time.
    /// </summary>
    private List<ClusterMember> Candidates(ClusterMap map, string? key)
    {
        var up = map.Members.Where(m => m.State == MemberState.Up).ToList();
        var turn = (uint)Interlocked.Increment(ref _next);
        if (up.Count == 0)
        {
            return up;
        }
        var replicas = new List<ClusterMember>(map.ReplicationFactor);
        if (key is not null && map.Ring.NodeCount > 0)
        {
            foreach (var id in map.Ring.PreferenceList(KeyToken.Of(key), map.ReplicationFactor))
            {
                if (map.FindMember(id) is { State: MemberState.Up } replica)
                {
                    replicas.Add(replica);
                }
            }
        }
        var others = up.Where(m => !replicas.Contains(m)).ToList();
        return [.. Rotate(replicas, turn), .. Rotate(others, turn)];

        static IEnumerable<ClusterMember> Rotate(List<ClusterMember> nodes, uint turn)
        {
            var start = nodes.Count == 0 ? 0 : (int)(turn % (uint)nodes.Count);
            for (var i = 0; i < nodes.Count; i++)
            {
                yield return nodes[(start + i) % nodes.Count];
            }
        }
    }

    /// <summary>The whole body, or null as soon as it is over <paramref name="max"/> bytes (a chunked body is counted as it arrives, never buffered whole).</summary>
    private static async Task<byte[]?> ReadBodyAsync(Stream body, int max, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The path and query to send on (dot segments were refused, so a literal '.' is safe): the key validated exactly as a node would and encoded again
    /// canonically, so no intermediary can turn it into another key on the way.
    /// </summary>
    private string? CanonicalTarget(HttpContext context, out KeyError error, out string? key)
    {
        error = KeyError.None;
        key = null;
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        var queryStart = raw.IndexOf('?', StringComparison.Ordinal);
        var query = queryStart >= 0 ? raw[queryStart..] : string.Empty;
        var path = context.Request.Path.Value ?? string.Empty;
        if (path.Equals("/v1/kv", StringComparison.OrdinalIgnoreCase))
        {
            return "/v1/kv" + query;
        }
        error = RequestKey.TryGet(context, maxKeyBytes, out key);
        if (error != KeyError.None)
        {
            return null;
        }
        var encoded = new StringBuilder("/v1/kv/");
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'~' or (byte)'.' or (byte)'/')
            {
                encoded.Append((char)b);
            }
            else
            {
                encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return encoded + query;
    }
}
