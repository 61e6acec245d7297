using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using RingKv.Node.Internode.Protocol;
using RingKv.Node.Security;
using RingKv.Testing;

namespace RingKv.Cluster.Tests.Hostile;

/// <summary>
/// Hostile input on a node's internode port (gRPC over HTTP/2, members only): bytes that are not
/// HTTP/2, HTTP/1.1, calls without the cluster secret, garbage and oversized protobuf, entries with
/// invalid keys. Each gets a clean connection close or a gRPC error status, never a crash.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class InternodeTests(HostileCluster cluster)
{
    private const string WritePath = "/ringkv.internode.v1.Internode/Write";

    public static TheoryData<string> Cases => new()
    {
        "random bytes",
        "an HTTP/1.1 request",
        "the HTTP/2 preface followed by garbage frames",
        "a gRPC call without the cluster secret",
        "a gRPC call with a wrong cluster secret",
        "a gRPC call with garbage protobuf",
        "a gRPC message claiming 100 MiB",
        "a gRPC message cut short",
        "a gRPC Write of an entry with a traversal key",
        "a gRPC Read of a key with a control character",
        "a path that is not gRPC",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task HostileInternodeInputIsRefusedCleanly(string name)
    {
        var target = "hostile/internode-target";
        switch (name)
        {
            case "random bytes":
                await AssertClosedWithout5xxAsync(RandomBytes(4096, seed: 7));
                break;
            case "an HTTP/1.1 request":
                await AssertClosedWithout5xxAsync(Encoding.ASCII.GetBytes($"PUT /v1/kv/{target} HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nvalue"));
                break;
            case "the HTTP/2 preface followed by garbage frames":
                await AssertClosedWithout5xxAsync([.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), .. RandomBytes(2048, seed: 11)]);
                break;
            case "a gRPC call without the cluster secret":
                Assert.Equal(StatusCode.Unauthenticated, await WriteStatusAsync(secret: null, Entry(target)));
                break;
            case "a gRPC call with a wrong cluster secret":
                Assert.Equal(StatusCode.Unauthenticated, await WriteStatusAsync(secret: new string('0', 64), Entry(target)));
                break;
            case "a gRPC call with garbage protobuf":
                {
                    var (http, grpc) = await RawGrpcAsync(Frame(RandomBytes(512, seed: 3)));
                    Assert.True(http == HttpStatusCode.OK && grpc is not (null or "0"), $"HTTP {(int)http}, grpc-status {grpc}");
                    break;
                }
            case "a gRPC message claiming 100 MiB":
                {
                    var prefix = new byte[5];
                    BinaryPrimitives.WriteUInt32BigEndian(prefix.AsSpan(1), 100 * 1024 * 1024);
                    var (http, grpc) = await RawGrpcAsync([.. prefix, .. RandomBytes(64, seed: 5)]);
                    Assert.True(http == HttpStatusCode.OK && grpc == ((int)StatusCode.ResourceExhausted).ToString(System.Globalization.CultureInfo.InvariantCulture), $"HTTP {(int)http}, grpc-status {grpc}");
                    break;
                }
            case "a gRPC message cut short":
                {
                    var message = new WriteRequest { Entries = { Entry(target) } }.ToByteArray();
                    var (http, grpc) = await RawGrpcAsync(Frame(message)[..^3]);
                    Assert.True(http == HttpStatusCode.OK && grpc is not (null or "0"), $"HTTP {(int)http}, grpc-status {grpc}");
                    break;
                }
            case "a gRPC Write of an entry with a traversal key":
                Assert.Equal(StatusCode.InvalidArgument, await WriteStatusAsync(cluster.Secret, Entry("../" + target)));
                Assert.Equal(StatusCode.InvalidArgument, await WriteStatusAsync(cluster.Secret, Entry("a/../b")));
                break;
            case "a gRPC Read of a key with a control character":
                {
                    using var channel = Channel();
                    var client = new RingKv.Node.Internode.Protocol.Internode.InternodeClient(channel);
                    var error = await Assert.ThrowsAsync<RpcException>(async () => await client.ReadAsync(new ReadRequest { Keys = { "bad\u0001key" } }, Secret(cluster.Secret)));
                    Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
                    break;
                }
            case "a path that is not gRPC":
                {
                    using var http = H2Client();
                    using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.InternodeUrl, "/v1/kv/" + target)) { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
                    using var response = await http.SendAsync(request);
                    Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
                    break;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(name), name, "Not a case of this table.");
        }
        await cluster.AssertUnharmedAsync("internode: " + name, target);
    }

    [Fact]
    public async Task AMembersWriteBatchLargerThanOneClientValueIsAccepted()
    {
        // Coalesced replica writes of large values: three of 600 KiB make one 1.8 MiB call, over the
        // 1 MiB body limit of a client request. A member (it shows the cluster secret) gets gRPC's
        // message limit instead.
        var keys = Enumerable.Range(0, 3).Select(i => "hostile/large-batch/" + i).ToArray();
        var request = new WriteRequest();
        foreach (var key in keys)
        {
            cluster.Track(key);
            request.Entries.Add(Entry(key, new byte[600 * 1024]));
        }
        using var channel = Channel();
        var client = new RingKv.Node.Internode.Protocol.Internode.InternodeClient(channel);
        var reply = await client.WriteAsync(request, Secret(cluster.Secret));
        Assert.Equal([0, 0, 0], reply.Statuses);
        foreach (var key in keys)
        {
            using var local = await cluster.Http.GetAsync(new Uri(cluster.NodeUrl, "/v1/local/kv/" + key));
            Assert.Equal(HttpStatusCode.OK, local.StatusCode);
        }
        await cluster.AssertUnharmedAsync("a member's 1.8 MiB write batch");
    }

    [Fact]
    public async Task AReadReplyStopsAtItsSizeBoundAndTheRestIsAskedAgain()
    {
        // Ten values of 600 KiB: one reply with all of them would be 6 MiB. The replica answers the
        // first keys up to 4 MiB; a coordinating node asks again for the rest, so concurrent client
        // reads of every key still get every value.
        var keys = Enumerable.Range(0, 10).Select(i => "hostile/large-read/" + i).ToArray();
        var write = new WriteRequest();
        foreach (var key in keys)
        {
            cluster.Track(key);
            write.Entries.Add(Entry(key, Enumerable.Repeat((byte)key[^1], 600 * 1024).ToArray()));
        }
        using var channel = Channel();
        var client = new RingKv.Node.Internode.Protocol.Internode.InternodeClient(channel);
        Assert.All((await client.WriteAsync(write, Secret(cluster.Secret))).Statuses, status => Assert.Equal(ReplicaWriteStatus.Applied, status));

        var read = new ReadRequest { Keys = { keys } };
        var reply = await client.ReadAsync(read, Secret(cluster.Secret));
        Assert.InRange(reply.Results.Count, 1, keys.Length - 1);
        Assert.All(reply.Results, result => Assert.True(result.Found));
        Assert.Equal(keys.Take(reply.Results.Count), reply.Results.Select(result => result.Entry.Key));

        var reads = await Task.WhenAll(keys.Select(async key =>
        {
            using var response = await cluster.Http.GetAsync(new Uri(cluster.NodeUrl, "/v1/kv/" + key));
            return (key, response.StatusCode, Body: await response.Content.ReadAsByteArrayAsync());
        }));
        Assert.All(reads, r =>
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal(600 * 1024, r.Body.Length);
            Assert.All(r.Body, b => Assert.Equal((byte)r.key[^1], b));
        });
        await cluster.AssertUnharmedAsync("a read of ten 600 KiB values");
    }

    private async Task AssertClosedWithout5xxAsync(byte[] bytes)
    {
        var exchange = await RawHttp.ExchangeAsync(cluster.InternodeUrl, bytes, halfClose: false, TimeSpan.FromSeconds(10));
        Assert.True(exchange.ClosedByServer, "The internode port kept a connection open that sent it garbage. Got: " + exchange.Text);
        Assert.DoesNotContain(exchange.Statuses, status => status >= 500);
    }

    private async Task<StatusCode> WriteStatusAsync(string? secret, Entry entry)
    {
        using var channel = Channel();
        var client = new RingKv.Node.Internode.Protocol.Internode.InternodeClient(channel);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await client.WriteAsync(new WriteRequest { Entries = { entry } }, Secret(secret)));
        return error.StatusCode;
    }

    /// <summary>A gRPC request whose body is exactly these bytes (length-prefixed messages or not); the HTTP status and grpc-status it got.</summary>
    private async Task<(HttpStatusCode Http, string? Grpc)> RawGrpcAsync(byte[] body)
    {
        using var http = H2Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(cluster.InternodeUrl, WritePath))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        request.Headers.TryAddWithoutValidation(ClusterSecret.HeaderName, cluster.Secret);
        using var response = await http.SendAsync(request);
        _ = await response.Content.ReadAsByteArrayAsync();
        var grpc = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.First()
            : response.Headers.TryGetValues("grpc-status", out var header) ? header.First() : null;
        return (response.StatusCode, grpc);
    }

    private GrpcChannel Channel() => GrpcChannel.ForAddress(cluster.InternodeUrl, new GrpcChannelOptions { HttpHandler = new SocketsHttpHandler(), MaxReceiveMessageSize = RingKv.Node.Hosting.ServerLimits.InternodeMaxMessageBytes });

    private static Metadata Secret(string? secret) => secret is null ? [] : new Metadata { { ClusterSecret.HeaderName, secret } };

    private static HttpClient H2Client() => new(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(15) };

    private static Entry Entry(string key) => Entry(key, "hostile"u8.ToArray());

    private static Entry Entry(string key, byte[] value) => new()
    {
        Key = key,
        Value = ByteString.CopyFrom(value),
        ContentType = "text/plain",
        Timestamp = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 16,
        Writer = 99,
    };

    private static byte[] Frame(byte[] message)
    {
        var framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed.AsSpan(5));
        return framed;
    }

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
