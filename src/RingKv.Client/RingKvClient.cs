using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace RingKv.Client;

/// <summary>
/// A client for the RingKV v1 REST API (<c>/v1/kv</c>). Thread-safe; share one instance.
/// Server errors throw <see cref="RingKvException"/>; a missing key is a null result, not an error.
/// </summary>
public sealed class RingKvClient : IDisposable
{
    /// <summary>Sent when the caller gives no content type: the server's own default.</summary>
    public const string DefaultContentType = "application/octet-stream";

    /// <summary>The problem type of a 404 for an absent, deleted or expired key (docs/API.md).</summary>
    public const string NotFoundProblem = "not-found";

    // Keys may contain "." and ".." segments or other text that Uri canonicalization would rewrite
    // (a different key would be sent). The server refuses such keys; we must send them as given.
    private static readonly UriCreationOptions VerbatimPath = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly string _root;
    private readonly AuthenticationHeaderValue? _authorization;

    /// <summary>Creates a client with its own connection pool.</summary>
    /// <param name="baseAddress">The server, e.g. <c>http://127.0.0.1:7000</c>.</param>
    /// <param name="bearerToken">Sent as <c>Authorization: Bearer</c> when not null.</param>
    public RingKvClient(Uri baseAddress, string? bearerToken = null)
        : this(new HttpClient { BaseAddress = baseAddress }, bearerToken, ownsHttp: true)
    {
    }

    /// <summary>Creates a client with its own connection pool that trusts the certificate authority in <paramref name="caFile"/>.</summary>
    /// <param name="baseAddress">The server, e.g. <c>https://127.0.0.1:7000</c>.</param>
    /// <param name="bearerToken">Sent as <c>Authorization: Bearer</c> when not null.</param>
    /// <param name="caFile">PEM certificate of the cluster's authority (e.g. <c>ringkv-data/tls/ca.crt</c>); null trusts the system's roots.</param>
    public RingKvClient(Uri baseAddress, string? bearerToken, string? caFile)
        : this(new HttpClient(TrustedAuthority.CreateHandler(caFile)) { BaseAddress = baseAddress }, bearerToken, ownsHttp: true)
    {
    }

    /// <summary>Creates a client over a caller-owned <see cref="HttpClient"/> whose <c>BaseAddress</c> is the server.</summary>
    public RingKvClient(HttpClient httpClient, string? bearerToken = null)
        : this(httpClient, bearerToken, ownsHttp: false)
    {
    }

    private RingKvClient(HttpClient httpClient, string? bearerToken, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        var baseAddress = httpClient.BaseAddress
            ?? throw new ArgumentException("The HttpClient needs a BaseAddress: the RingKV server URL.", nameof(httpClient));
        if (!baseAddress.IsAbsoluteUri || (baseAddress.Scheme != Uri.UriSchemeHttp && baseAddress.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{baseAddress}' is not an http:// or https:// URL.", nameof(httpClient));
        }
        _http = httpClient;
        _ownsHttp = ownsHttp;
        _root = baseAddress.GetLeftPart(UriPartial.Path).TrimEnd('/');
        _authorization = string.IsNullOrEmpty(bearerToken) ? null : new AuthenticationHeaderValue("Bearer", bearerToken);
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, byte for byte.</summary>
    /// <param name="contentType">Stored with the value; null sends none and the server stores <see cref="DefaultContentType"/>. A JSON type makes the server check the body is JSON.</param>
    /// <param name="ttl">The key expires after this long; whole seconds, rounded up.</param>
    /// <param name="ifMatch">Write only if the current version is this one (compare-and-set), else 412.</param>
    /// <param name="ifNoneMatch">Write only if the key is absent, else 412.</param>
    /// <returns>The new version (the ETag without quotes), or null if the server sent none.</returns>
    public async Task<string?> PutAsync(
        string key,
        ReadOnlyMemory<byte> value,
        string? contentType = null,
        TimeSpan? ttl = null,
        string? ifMatch = null,
        bool ifNoneMatch = false,
        CancellationToken cancellationToken = default)
    {
        if (ifMatch is not null && ifNoneMatch)
        {
            throw new ArgumentException("Use either ifMatch or ifNoneMatch, not both.", nameof(ifNoneMatch));
        }
        var uri = KeyUri(key, ttl is { } t ? $"?ttl={TtlSeconds(t)}" : "");
        using var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new ReadOnlyMemoryContent(value) };
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = ParseContentType(contentType);
        }
        AddPrecondition(request, ifMatch);
        if (ifNoneMatch)
        {
            request.Headers.IfNoneMatch.Add(EntityTagHeaderValue.Any);
        }
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        return VersionOf(response);
    }

    /// <summary>Stores text as UTF-8.</summary>
    public Task<string?> PutAsync(
        string key,
        string value,
        string contentType = "text/plain; charset=utf-8",
        TimeSpan? ttl = null,
        string? ifMatch = null,
        bool ifNoneMatch = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        return PutAsync(key, Encoding.UTF8.GetBytes(value), contentType, ttl, ifMatch, ifNoneMatch, cancellationToken);
    }

    /// <summary>Reads a key; null when it is absent, deleted or expired.</summary>
    public async Task<RingKvEntry?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, KeyUri(key, ""));
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            // Only a missing key is "no value". Any other 404 (e.g. "no-such-endpoint" because the
            // URL has a wrong path) is an error the caller must see, not a silent miss.
            var problem = await ProblemReader.ReadAsync(response, cancellationToken).ConfigureAwait(false);
            return problem.ProblemType is null || problem.ProblemType.EndsWith(NotFoundProblem, StringComparison.Ordinal) ? null : throw problem;
        }
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        var value = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var contentType = response.Content.Headers.ContentType?.ToString() ?? DefaultContentType;
        return new RingKvEntry(key, value, contentType, VersionOf(response) ?? string.Empty);
    }

    /// <summary>Deletes a key. Succeeds also when the key is absent (deletes are idempotent).</summary>
    /// <param name="ifMatch">Delete only if the current version is this one, else 412.</param>
    public async Task DeleteAsync(string key, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, KeyUri(key, ""));
        AddPrecondition(request, ifMatch);
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists one page of keys in the server's stable order.</summary>
    /// <param name="limit">Page size 1..1000; null takes the server's default (100).</param>
    /// <param name="cursor">The previous page's <see cref="KeyPage.Cursor"/>; null starts from the beginning.</param>
    public async Task<KeyPage> ListKeysAsync(
        string? prefix = null,
        int? limit = null,
        string? cursor = null,
        CancellationToken cancellationToken = default)
    {
        var query = new StringBuilder();
        AppendQuery(query, "prefix", prefix);
        AppendQuery(query, "limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AppendQuery(query, "cursor", cursor);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_root + "/v1/kv" + query, in VerbatimPath));
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return ParseKeyPage(body);
    }

    /// <summary>Every key with the prefix, following cursors page by page.</summary>
    public async IAsyncEnumerable<string> ListAllKeysAsync(
        string? prefix = null,
        int? pageSize = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        string? cursor = null;
        do
        {
            var page = await ListKeysAsync(prefix, pageSize, cursor, cancellationToken).ConfigureAwait(false);
            foreach (var key in page.Keys)
            {
                yield return key;
            }
            cursor = page.Cursor;
        }
        while (cursor is not null);
    }

    /// <summary>The cluster: members, states, ownership and figures (<c>GET /v1/cluster</c>).</summary>
    public Task<ClusterStatus> GetClusterAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync("/v1/cluster", ClientJsonContext.Default.ClusterStatus, cancellationToken);

    /// <summary>The nodes that hold a key, in preference-list order (<c>GET /v1/cluster/locate/{key}</c>).</summary>
    public Task<KeyLocation> LocateAsync(string key, CancellationToken cancellationToken = default) =>
        GetJsonAsync("/v1/cluster/locate/" + KeyPath.Encode(key), ClientJsonContext.Default.KeyLocation, cancellationToken);

    /// <summary>Asks the coordinator to start a node and admit it (<c>POST /v1/cluster/nodes</c>).</summary>
    public async Task<AddedNode> AddNodeAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_root + "/v1/cluster/nodes", in VerbatimPath));
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(body, ClientJsonContext.Default.AddedNode) ?? throw new JsonException("Empty answer to POST /v1/cluster/nodes.");
    }

    /// <summary>Data transfers, running and recently finished (<c>GET /v1/cluster/transfers</c>).</summary>
    public Task<TransferList> GetTransfersAsync(CancellationToken cancellationToken = default) =>
        GetJsonAsync("/v1/cluster/transfers", ClientJsonContext.Default.TransferList, cancellationToken);

    /// <summary>Decommissions a live node, or with <paramref name="force"/> removes a dead one (<c>DELETE /v1/cluster/nodes/{id}</c>).</summary>
    public Task RemoveNodeAsync(string id, bool force = false, CancellationToken cancellationToken = default) =>
        DeleteAsync("/v1/cluster/nodes/" + Uri.EscapeDataString(id) + (force ? "?force=true" : string.Empty), cancellationToken);

    /// <summary>Cancels a transfer, rolling its membership change back (<c>DELETE /v1/cluster/transfers/{id}</c>).</summary>
    public Task CancelTransferAsync(string id, CancellationToken cancellationToken = default) =>
        DeleteAsync("/v1/cluster/transfers/" + Uri.EscapeDataString(id), cancellationToken);

    private async Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(_root + path, in VerbatimPath));
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
    }

    private async Task<T> GetJsonAsync<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_root + path, in VerbatimPath));
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await ThrowIfErrorAsync(response, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Deserialize(body, type) ?? throw new JsonException($"Empty answer to GET {path}.");
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private Uri KeyUri(string key, string query) => new(_root + "/v1/kv/" + KeyPath.Encode(key) + query, in VerbatimPath);

    private Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (_authorization is not null)
        {
            request.Headers.Authorization = _authorization;
        }
        return _http.SendAsync(request, cancellationToken);
    }

    private static async Task ThrowIfErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ProblemReader.ReadAsync(response, cancellationToken).ConfigureAwait(false);
        }
    }

    private static void AddPrecondition(HttpRequestMessage request, string? ifMatch)
    {
        if (ifMatch is not null)
        {
            request.Headers.IfMatch.Add(new EntityTagHeaderValue(Quote(ifMatch)));
        }
    }

    private static string Quote(string version) =>
        version.Length >= 2 && version[0] == '"' && version[^1] == '"' ? version : $"\"{version}\"";

    private static string? VersionOf(HttpResponseMessage response) => response.Headers.ETag?.Tag.Trim('"');

    private static MediaTypeHeaderValue ParseContentType(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            ? parsed
            : throw new ArgumentException($"'{contentType}' is not a valid content type, e.g. 'application/json' or 'text/plain; charset=utf-8'.", nameof(contentType));

    private static long TtlSeconds(TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero, nameof(ttl));
        return (long)Math.Ceiling(ttl.TotalSeconds);
    }

    private static void AppendQuery(StringBuilder query, string name, string? value)
    {
        if (value is null)
        {
            return;
        }
        query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    private static KeyPage ParseKeyPage(byte[] body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var keys = new List<string>();
            if (root.TryGetProperty("keys", out var keyArray) && keyArray.ValueKind == JsonValueKind.Array)
            {
                foreach (var key in keyArray.EnumerateArray())
                {
                    keys.Add(key.GetString() ?? throw new JsonException("A key in 'keys' is not a string."));
                }
            }
            else
            {
                throw new JsonException("The answer has no 'keys' array.");
            }
            var cursor = root.TryGetProperty("cursor", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            return new KeyPage(keys, cursor);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw new RingKvException($"The server's key listing is not in the v1 format: {e.Message}", e);
        }
    }
}
