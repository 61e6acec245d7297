using System.Text;

namespace RingKv.Cluster.Tests.Hostile;

/// <summary>Which listener a hostile request goes to.</summary>
public enum Listener
{
    /// <summary>A node's client port (the v1 API).</summary>
    Node,

    /// <summary>The coordinator's v1 gateway (/v1/kv on the coordinator's URL).</summary>
    Gateway,

    /// <summary>The coordinator's cluster and admin API (/v1/cluster...).</summary>
    Cluster,

    /// <summary>The coordinator's control plane (/internal/v1/...), members only.</summary>
    ControlPlane,

    /// <summary>A node's internode port (gRPC over HTTP/2), members only.</summary>
    Internode,
}

/// <param name="Name">What the request does wrong, as the table says it.</param>
/// <param name="Expected">The status the server must answer.</param>
/// <param name="Request">The exact bytes sent.</param>
/// <param name="Absent">Keys the rejected request tried to write: they must not exist afterwards.</param>
/// <param name="HalfClose">Send nothing more after the request (a body cut short).</param>
public sealed record HttpCase(string Name, Listener On, int Expected, Func<HostileCluster, byte[]> Request, string[] Absent, bool HalfClose = false)
{
    public override string ToString() => $"{On}: {Name}";
}

/// <summary>
/// The bad-input table of the hostile-input issue, request by request. Every key-value case runs
/// against a node and against the gateway; the cluster and control-plane cases against the
/// coordinator.
/// </summary>
public static class HttpCases
{
    private const string Target = "hostile/target";
    private const string Sentinel = HostileCluster.SentinelKey;

    public static IReadOnlyList<HttpCase> All { get; } = Build();

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var c in All)
        {
            data.Add(c.ToString());
        }
        return data;
    }

    public static HttpCase Find(string name) => All.Single(c => c.ToString() == name);

    private static List<HttpCase> Build()
    {
        var cases = new List<HttpCase>();
        void Both(string name, int expected, Func<HostileCluster, byte[]> request, params string[] absent)
        {
            cases.Add(new HttpCase(name, Listener.Node, expected, request, absent));
            cases.Add(new HttpCase(name, Listener.Gateway, expected, request, absent));
        }

        // Keys: decoded exactly once, then validated (docs/API.md "Keys").
        foreach (var (name, target) in new[]
        {
            ("empty key", "/v1/kv/"),
            ("key over 1024 bytes", "/v1/kv/" + new string('k', 1025)),
            ("NUL in key", "/v1/kv/a%00b"),
            ("control character in key", "/v1/kv/a%01b"),
            ("DEL in key", "/v1/kv/a%7Fb"),
            ("invalid UTF-8 (lone 0xFF)", "/v1/kv/bad%FFutf8"),
            ("invalid UTF-8 (truncated sequence)", "/v1/kv/bad%C3%28utf8"),
            ("overlong UTF-8 encoding of '/'", "/v1/kv/a%C0%AFb"),
            ("'%' without two hex digits", "/v1/kv/bad%G1"),
            ("'%' at the end", "/v1/kv/bad%"),
            ("double encoding %252e%252e%252f", "/v1/kv/%252e%252e%252fetc"),
            ("traversal ../", "/v1/kv/../etc/passwd"),
            ("traversal inside a key a/../b", "/v1/kv/a/../b"),
            ("traversal ..%2F", "/v1/kv/..%2Fetc"),
            ("traversal %2e%2e/", "/v1/kv/%2e%2e/etc"),
            ("traversal %2E%2E%2F", "/v1/kv/%2E%2E%2Fetc"),
            ("traversal ..%5C (backslash)", "/v1/kv/..%5Cetc"),
            ("traversal ..\\ (raw backslash)", "/v1/kv/..\\etc"),
            ("dot segment ./", "/v1/kv/./x"),
        })
        {
            Both(name, 400, Req("PUT", target, body: "hostile"));
        }

        // Query parameters: quorums within 1..RF, unknown or repeated ones refused.
        foreach (var (name, query) in new[]
        {
            ("?w=0", "?w=0"),
            ("?w=4 with RF 3", "?w=4"),
            ("?w=-1", "?w=-1"),
            ("?w=abc", "?w=abc"),
            ("?w= (empty)", "?w="),
            ("?w repeated", "?w=1&w=2"),
            ("?consistency=most", "?consistency=most"),
            ("?w together with ?consistency", "?w=1&consistency=one"),
            ("unknown ?tll=60", "?tll=60"),
            ("?ttl=-1", "?ttl=-1"),
            ("?ttl=0", "?ttl=0"),
            ("?ttl over ten years", "?ttl=99999999999"),
            ("token in the query string", "?access_token=rk_hostile"),
            ("NUL in a query name", "?%00=1"),
        })
        {
            Both("PUT " + name, 400, Req("PUT", "/v1/kv/" + Target + query, body: "hostile"), Target);
        }
        foreach (var query in new[] { "?r=-1", "?r=0", "?r=4", "?r=two", "?unknown=1", "?r=1&consistency=all" })
        {
            Both("GET " + query, 400, Req("GET", "/v1/kv/" + Sentinel + query));
        }
        foreach (var query in new[] { "?w=0", "?w=4", "?force=true" })
        {
            Both("DELETE " + query, 400, Req("DELETE", "/v1/kv/" + Sentinel + query));
        }
        foreach (var query in new[] { "?limit=0", "?limit=1001", "?limit=-1", "?cursor=!!notbase64!!", "?prefix=%01", "?limit=1&limit=2", "?unknown=1" })
        {
            Both("list " + query, 400, Req("GET", "/v1/kv" + query));
        }

        // Methods and headers.
        Both("PATCH a key", 405, Req("PATCH", "/v1/kv/" + Sentinel, body: "hostile"));
        Both("POST a key", 405, Req("POST", "/v1/kv/" + Target, body: "hostile"), Target);
        Both("unknown method BREW", 405, Req("BREW", "/v1/kv/" + Target), Target);
        Both("malformed If-Match", 400, Req("PUT", "/v1/kv/" + Sentinel, headers: "If-Match: not-a-version\r\n", body: "hostile"));
        Both("malformed If-None-Match", 400, Req("PUT", "/v1/kv/" + Sentinel, headers: "If-None-Match: abc\r\n", body: "hostile"));
        // Well-formed entity-tags that are not the sentinel's version: a false condition (RFC 9110), nothing written.
        Both("If-Match with a tag that is not ours", 412, Req("PUT", "/v1/kv/" + Sentinel, headers: "If-Match: \"abc\"\r\n", body: "hostile"));
        Both("If-None-Match: * on an existing key", 412, Req("PUT", "/v1/kv/" + Sentinel, headers: "If-None-Match: *\r\n", body: "hostile"));
        Both("Content-Type over 255 characters", 400, Req("PUT", "/v1/kv/" + Sentinel, headers: "Content-Type: text/" + new string('x', 300) + "\r\n", body: "hostile"));
        Both("no Host header", 400, _ => Ascii("GET /v1/kv/" + Sentinel + " HTTP/1.1\r\nConnection: close\r\n\r\n"));
        Both("two Host headers", 400, Req("GET", "/v1/kv/" + Sentinel, headers: "Host: other\r\n"));
        Both("bytes that are not HTTP", 400, _ => Encoding.Latin1.GetBytes("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n"));
        Both("NUL byte in the request target", 400, _ => Ascii("GET /v1/kv/a\0b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"));

        // Bodies: JSON checked under a JSON content type; size limits.
        foreach (var (name, contentType, json) in new[]
        {
            ("truncated JSON", "application/json", "{\"truncated\": [1, 2"),
            ("empty JSON body", "application/json", ""),
            ("two JSON documents", "application/json", "{} {}"),
            ("JSON with a trailing comma (+json)", "application/vnd.api+json", "[1,]"),
            ("JSON nested 10,000 deep", "application/json", new string('[', 10_000) + new string(']', 10_000)),
        })
        {
            Both(name, 400, Req("PUT", "/v1/kv/" + Sentinel, headers: $"Content-Type: {contentType}\r\n", body: json));
        }
        Both("value of 1 MiB + 1 byte", 413, Req("PUT", "/v1/kv/" + Target, body: new string('v', (1024 * 1024) + 1)), Target);
        Both("Content-Length of 100 MiB", 413, Req("PUT", "/v1/kv/" + Target, headers: "Content-Length: 104857600\r\n", body: "short", autoLength: false), Target);
        Both("chunked body over 1 MiB", 413, Chunked("/v1/kv/" + Target, (1024 * 1024) + (64 * 1024)), Target);

        // HTTP framing and Kestrel's limits.
        Both("header block over 32 KiB", 431, Req("GET", "/v1/kv/" + Sentinel, headers: "X-Big: " + new string('h', 33 * 1024) + "\r\n"));
        Both("101 headers", 431, Req("GET", "/v1/kv/" + Sentinel, headers: string.Concat(Enumerable.Range(0, 101).Select(i => $"X-H{i}: {i}\r\n"))));
        Both("request line over 8 KiB", 414, Req("GET", "/v1/kv/" + new string('k', 9 * 1024)));
        Both("Content-Length together with Transfer-Encoding", 400, Req("PUT", "/v1/kv/" + Target, headers: "Content-Length: 7\r\nTransfer-Encoding: chunked\r\n", body: "7\r\nhostile\r\n0\r\n\r\n", autoLength: false), Target);
        Both("Transfer-Encoding that is not chunked", 400, Req("PUT", "/v1/kv/" + Target, headers: "Transfer-Encoding: gzip\r\n", body: "hostile", autoLength: false), Target);
        Both("invalid Content-Length", 400, Req("PUT", "/v1/kv/" + Target, headers: "Content-Length: 7x\r\n", body: "hostile", autoLength: false), Target);
        foreach (var on in new[] { Listener.Node, Listener.Gateway })
        {
            cases.Add(new HttpCase("Content-Length longer than the body (then nothing)", on, 400,
                Req("PUT", "/v1/kv/" + Target, headers: "Content-Length: 100\r\n", body: "only 19 bytes here.", autoLength: false), [Target], HalfClose: true));
        }

        // Authentication and roles.
        Both("PUT without a token", 401, Req("PUT", "/v1/kv/" + Sentinel, token: null, body: "hostile"));
        Both("PUT with an unknown token", 401, Req("PUT", "/v1/kv/" + Sentinel, token: "rk_not-a-real-token", body: "hostile"));
        Both("PUT with Basic credentials", 401, Req("PUT", "/v1/kv/" + Sentinel, token: null, headers: "Authorization: Basic YWRtaW46YWRtaW4=\r\n", body: "hostile"));
        Both("PUT with a read token", 403, c => Req("PUT", "/v1/kv/" + Sentinel, token: c.ReaderToken, body: "hostile")(c));
        Both("DELETE with a read token", 403, c => Req("DELETE", "/v1/kv/" + Sentinel, token: c.ReaderToken)(c));
        cases.Add(new HttpCase("/v1/local with a write token", Listener.Node, 403, c => Req("GET", "/v1/local/kv/" + Sentinel, token: c.WriterToken)(c), []));
        cases.Add(new HttpCase("/v1/local with a NUL in the key", Listener.Node, 400, Req("GET", "/v1/local/kv/a%00b"), []));
        cases.Add(new HttpCase("/v1/local with an unknown query", Listener.Node, 400, Req("GET", "/v1/local/kv/" + Sentinel + "?x=1"), []));
        cases.Add(new HttpCase("/v1/cluster with an unknown query", Listener.Node, 400, Req("GET", "/v1/cluster?verbose=1"), []));

        // The coordinator's cluster and admin API.
        foreach (var (name, method, target, expected) in new[]
        {
            ("GET /v1/cluster with an unknown query", "GET", "/v1/cluster?verbose=1", 400),
            ("GET /v1/cluster/transfers with an unknown query", "GET", "/v1/cluster/transfers?all=1", 400),
            ("locate a traversal key", "GET", "/v1/cluster/locate/..%2Fetc", 400),
            ("locate with an unknown query", "GET", "/v1/cluster/locate/k?x=1", 400),
            ("PUT /v1/cluster", "PUT", "/v1/cluster", 405),
            ("POST /v1/cluster/nodes with an unknown query", "POST", "/v1/cluster/nodes?count=100", 400),
            ("remove a node that does not exist", "DELETE", "/v1/cluster/nodes/nobody", 404),
            ("remove a traversal node id", "DELETE", "/v1/cluster/nodes/..%2Fn1", 404),
            ("remove a node with ?force=yes", "DELETE", "/v1/cluster/nodes/n1?force=yes", 400),
            ("remove a node with a misspelt ?forse=true", "DELETE", "/v1/cluster/nodes/n1?forse=true", 400),
            ("remove a node below the replication factor", "DELETE", "/v1/cluster/nodes/n1", 409),
            ("cancel a transfer that does not exist", "DELETE", "/v1/cluster/transfers/nope", 404),
            ("POST /v1/cluster/transfers", "POST", "/v1/cluster/transfers", 405),
        })
        {
            cases.Add(new HttpCase(name, Listener.Cluster, expected, Req(method, target), []));
        }
        // A body the endpoint would ignore is refused: it must not start a local node nobody asked for.
        cases.Add(new HttpCase("add a node with a URL in the body", Listener.Cluster, 400,
            Req("POST", "/v1/cluster/nodes", headers: "Content-Type: application/json\r\n", body: "{\"url\": \"http://10.0.0.1:1\"}"), []));
        cases.Add(new HttpCase("add a node with an XML body", Listener.Cluster, 415,
            Req("POST", "/v1/cluster/nodes", headers: "Content-Type: application/xml\r\n", body: "<node url=\"http://10.0.0.1:1\"/>"), []));
        cases.Add(new HttpCase("add a node with a write token", Listener.Cluster, 403, c => Req("POST", "/v1/cluster/nodes", token: c.WriterToken)(c), []));
        cases.Add(new HttpCase("cancel a transfer without a token", Listener.Cluster, 401, Req("DELETE", "/v1/cluster/transfers/t1", token: null), []));

        // The control plane: members only (cluster secret), JSON only.
        foreach (var (name, method, target) in new[]
        {
            ("join without the cluster secret", "POST", "/internal/v1/join"),
            ("heartbeat without the cluster secret", "POST", "/internal/v1/heartbeat"),
            ("map without the cluster secret", "GET", "/internal/v1/map"),
        })
        {
            cases.Add(new HttpCase(name, Listener.ControlPlane, 401, Req(method, target, token: null, headers: "Content-Type: application/json\r\n", body: method == "POST" ? "{}" : null), []));
        }
        cases.Add(new HttpCase("join with a wrong cluster secret", Listener.ControlPlane, 401,
            Req("POST", "/internal/v1/join", token: null, headers: "X-RingKV-Cluster-Secret: " + new string('0', 64) + "\r\nContent-Type: application/json\r\n", body: "{}"), []));
        foreach (var (name, method, target, headers, body, expected) in new[]
        {
            ("join as text/plain", "POST", "/internal/v1/join", "Content-Type: text/plain\r\n", "{}", 415),
            ("join without a content type", "POST", "/internal/v1/join", "", "{}", 415),
            ("heartbeat as form data", "POST", "/internal/v1/heartbeat", "Content-Type: application/x-www-form-urlencoded\r\n", "id=n1", 415),
            ("join with broken JSON", "POST", "/internal/v1/join", "Content-Type: application/json\r\n", "{", 400),
            ("join with JSON null", "POST", "/internal/v1/join", "Content-Type: application/json\r\n", "null", 400),
            ("join with a file:// URL", "POST", "/internal/v1/join", "Content-Type: application/json\r\n", "{\"id\":\"n9\",\"clientUrl\":\"file:///etc/passwd\",\"internodeUrl\":\"http://127.0.0.1:1\",\"processId\":1}", 400),
            ("join without URLs", "POST", "/internal/v1/join", "Content-Type: application/json\r\n", "{\"id\":\"n9\"}", 400),
            ("join with a wrong-typed field", "POST", "/internal/v1/join", "Content-Type: application/json\r\n", "{\"clientUrl\":[1],\"internodeUrl\":{},\"processId\":\"x\"}", 400),
            ("heartbeat without an id", "POST", "/internal/v1/heartbeat", "Content-Type: application/json\r\n", "{}", 400),
            ("heartbeat nested 10,000 deep", "POST", "/internal/v1/heartbeat", "Content-Type: application/json\r\n", new string('[', 10_000) + new string(']', 10_000), 400),
            ("heartbeat with an unknown query", "POST", "/internal/v1/heartbeat?x=1", "Content-Type: application/json\r\n", "{\"id\":\"n1\"}", 400),
            ("map with ?after=abc", "GET", "/internal/v1/map?after=abc", "", null, 400),
            ("map with ?waitMs=-5", "GET", "/internal/v1/map?waitMs=-5", "", null, 400),
            ("map with an unknown query", "GET", "/internal/v1/map?after=0&bogus=1", "", null, 400),
            ("GET /internal/v1/join", "GET", "/internal/v1/join", "", null, 405),
            ("heartbeat of 2 MiB", "POST", "/internal/v1/heartbeat", "Content-Type: application/json\r\n", "\"" + new string('h', 2 * 1024 * 1024) + "\"", 413),
        })
        {
            cases.Add(new HttpCase(name, Listener.ControlPlane, expected,
                c => Req(method, target, token: null, headers: $"X-RingKV-Cluster-Secret: {c.Secret}\r\n" + headers, body: body)(c), []));
        }
        cases.Add(new HttpCase("join body cut short", Listener.ControlPlane, 400,
            c => Req("POST", "/internal/v1/join", token: null, headers: $"X-RingKV-Cluster-Secret: {c.Secret}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n", body: "{\"id\":", autoLength: false)(c), [], HalfClose: true));
        return cases;
    }

    /// <param name="token">"" for the admin token, null for none.</param>
    private static Func<HostileCluster, byte[]> Req(string method, string target, string? token = "", string headers = "", string? body = null, bool autoLength = true) => cluster =>
    {
        var bodyBytes = body is null ? [] : Encoding.UTF8.GetBytes(body);
        var head = cluster.Head(method, target, token, headers, body is not null && autoLength ? bodyBytes.Length : null);
        return [.. Encoding.Latin1.GetBytes(head), .. bodyBytes];
    };

    private static Func<HostileCluster, byte[]> Chunked(string target, int total) => cluster =>
    {
        var body = new MemoryStream();
        var chunk = new byte[64 * 1024];
        for (var sent = 0; sent < total; sent += chunk.Length)
        {
            body.Write(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n"));
            body.Write(chunk);
            body.Write("\r\n"u8);
        }
        body.Write("0\r\n\r\n"u8);
        return [.. Encoding.Latin1.GetBytes(cluster.Head("PUT", target, headers: "Transfer-Encoding: chunked\r\n")), .. body.ToArray()];
    };

    private static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);
}
