using System.Net;
using System.Net.Sockets;
using System.Text;
using RingKv.Node.Security;
using RingKv.Node.Tests.Support;
using StackExchange.Redis;
using Role = RingKv.Node.Security.Role;

namespace RingKv.Node.Tests.Resp;

/// <summary>
/// The RESP door of a real node on real sockets, driven by a Redis client nobody here wrote
/// (StackExchange.Redis) and by raw frames where the test is about bytes.
/// </summary>
public sealed class RespNodeTests : IAsyncLifetime
{
    private NodeServer _node = null!;
    private ConnectionMultiplexer _redis = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeServer.StartAsync("memory", options => options.MaxValueBytes = 64 * 1024);
        _redis = await ConnectAsync(_node.RespEndPoint!);
    }

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        await _node.DisposeAsync();
    }

    internal static Task<ConnectionMultiplexer> ConnectAsync(IPEndPoint endpoint, string? password = null) =>
        ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { endpoint },
            Password = password,
            AbortOnConnectFail = true,
            ConnectTimeout = 10_000,
            SyncTimeout = 10_000,
            AsyncTimeout = 10_000,
        });

    [Fact]
    public async Task StringCommandsBehaveAsInRedis()
    {
        var db = _redis.GetDatabase();
        Assert.True(await db.StringSetAsync("greeting", "hello"));
        Assert.Equal("hello", await db.StringGetAsync("greeting"));
        Assert.Equal(11, await db.StringAppendAsync("greeting", " world"));
        Assert.Equal("world", await db.StringGetRangeAsync("greeting", 6, -1));
        Assert.Equal(11, await db.StringLengthAsync("greeting"));
        Assert.False(await db.StringSetAsync("greeting", "again", when: When.NotExists));
        Assert.True(await db.StringSetAsync("fresh", "x", when: When.NotExists));
        Assert.False(await db.StringSetAsync("absent", "x", when: When.Exists));
        Assert.Equal("hello world", await db.StringGetSetAsync("greeting", "replaced"));
        Assert.Equal("replaced", await db.StringGetDeleteAsync("greeting"));
        Assert.True((await db.StringGetAsync("greeting")).IsNull);
        Assert.Equal(5, await db.StringIncrementAsync("counter", 5));
        Assert.Equal(3, await db.StringDecrementAsync("counter", 2));
        Assert.Equal(3.5, await db.StringIncrementAsync("counter", 0.5));
        await Assert.ThrowsAsync<RedisServerException>(() => db.StringIncrementAsync("fresh"));
        Assert.Equal(11, await db.StringSetRangeAsync("padded", 6, "world"));
        Assert.Equal("\0\0\0\0\0\0world", (string?)await db.StringGetAsync("padded"));
        Assert.True(await db.StringSetAsync([new("m1", "1"), new("m2", "2")]));
        Assert.Equal(["1", "2", null], (await db.StringGetAsync(["m1", "m2", "m3"])).Select(v => (string?)v));
        Assert.False(await db.StringSetAsync([new("m1", "9"), new("m9", "9")], When.NotExists));
        Assert.Equal(2, await db.KeyExistsAsync(["m1", "m2", "m3"]));
        Assert.Equal(2, await db.KeyDeleteAsync(["m1", "m2", "m3"]));
    }

    [Fact]
    public async Task ExpiryCommandsBehaveAsInRedis()
    {
        var db = _redis.GetDatabase();
        await db.StringSetAsync("session", "token", TimeSpan.FromSeconds(100));
        var ttl = await db.KeyTimeToLiveAsync("session");
        Assert.InRange(ttl!.Value.TotalSeconds, 90, 100);
        Assert.True(await db.KeyPersistAsync("session"));
        Assert.Null(await db.KeyTimeToLiveAsync("session"));
        Assert.False(await db.KeyExpireAsync("session", TimeSpan.FromSeconds(50), ExpireWhen.GreaterThanCurrentExpiry));
        Assert.True(await db.KeyExpireAsync("session", TimeSpan.FromSeconds(50), ExpireWhen.HasNoExpiry));
        Assert.InRange((await db.KeyTimeToLiveAsync("session"))!.Value.TotalSeconds, 40, 50);
        var at = await db.KeyExpireTimeAsync("session");
        Assert.InRange(at!.Value, DateTime.UtcNow.AddSeconds(40), DateTime.UtcNow.AddSeconds(51));
        // An expiry in the past deletes the key, as in Redis.
        Assert.True(await db.KeyExpireAsync("session", DateTime.UtcNow.AddSeconds(-5)));
        Assert.False(await db.KeyExistsAsync("session"));
        Assert.Equal(RedisType.None, await db.KeyTypeAsync("session"));
        await db.StringSetAsync("copied", "v", TimeSpan.FromSeconds(100));
        Assert.True(await db.KeyCopyAsync("copied", "copy"));
        Assert.InRange((await db.KeyTimeToLiveAsync("copy"))!.Value.TotalSeconds, 90, 100);
        Assert.True(await db.KeyRenameAsync("copy", "renamed"));
        Assert.False(await db.KeyExistsAsync("copy"));
        Assert.Equal("v", await db.StringGetAsync("renamed"));
        Assert.Equal(RedisType.String, await db.KeyTypeAsync("renamed"));
    }

    [Fact]
    public async Task ScanWalksEveryKeyOnceWithMatchAndCount()
    {
        var db = _redis.GetDatabase();
        var written = Enumerable.Range(0, 250).Select(i => $"scan:{i}").ToHashSet();
        await Task.WhenAll(written.Select(key => db.StringSetAsync(key, "v")));
        await db.StringSetAsync("other:1", "v");
        var server = _redis.GetServer(_node.RespEndPoint!);
        var seen = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: "scan:*", pageSize: 17))
        {
            seen.Add(key!);
        }
        Assert.Equal(written.Order(), seen.Order());
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Single(server.Keys(pattern: "other:*", pageSize: 1000));
    }

    [Fact]
    public async Task APipelinedBatchIsAnsweredInOrder()
    {
        var db = _redis.GetDatabase();
        var batch = db.CreateBatch();
        var sets = Enumerable.Range(0, 200).Select(i => batch.StringSetAsync($"batch:{i % 20}", i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var gets = Enumerable.Range(0, 20).Select(i => batch.StringGetAsync($"batch:{i}")).ToList();
        var increments = Enumerable.Range(0, 50).Select(_ => batch.StringIncrementAsync("batch:counter")).ToList();
        batch.Execute();
        Assert.All(await Task.WhenAll(sets), Assert.True);
        // The last SET of each key came last in the pipeline, so the read after them sees it.
        Assert.Equal(Enumerable.Range(180, 20).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), (await Task.WhenAll(gets)).Select(v => (string)v!));
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), await Task.WhenAll(increments));
    }

    [Fact]
    public async Task ConcurrentIncrementsThroughOneNodeAreNeverLost()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => ConnectAsync(_node.RespEndPoint!)));
        try
        {
            await Task.WhenAll(clients.Select(async client =>
            {
                var db = client.GetDatabase();
                for (var i = 0; i < 100; i++)
                {
                    await db.StringIncrementAsync("shared-counter");
                }
            }));
            Assert.Equal(600, (long)await _redis.GetDatabase().StringGetAsync("shared-counter"));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task KeysAreTheSameThroughRespAndRestWithTheirTtls()
    {
        var db = _redis.GetDatabase();
        await db.StringSetAsync("shared/resp", "from resp", TimeSpan.FromSeconds(100));
        using var get = await _node.Client.GetAsync("/v1/kv/shared/resp");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("from resp", await get.Content.ReadAsStringAsync());
        var expires = DateTimeOffset.Parse(get.Headers.GetValues("X-RingKV-Expires-At").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, DateTimeOffset.UtcNow.AddSeconds(90), DateTimeOffset.UtcNow.AddSeconds(101));

        using var put = await _node.Client.PutAsync("/v1/kv/shared/rest?ttl=50", new StringContent("from rest"));
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("from rest", await db.StringGetAsync("shared/rest"));
        Assert.InRange((await db.KeyTimeToLiveAsync("shared/rest"))!.Value.TotalSeconds, 40, 50);
        Assert.True(await db.KeyDeleteAsync("shared/rest"));
        using var gone = await _node.Client.GetAsync("/v1/kv/shared/rest");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Theory]
    [InlineData("*3\r\n$3\r\nSET\r\n$5\r\nbad-1\r\n$-5\r\n", "invalid bulk length")]
    [InlineData("*3\r\n$3\r\nSET\r\n$5\r\nbad-2\r\n$3\r\nlonger-than-three\r\n", "does not end where its length says")]
    [InlineData("*3\r\n$3\r\nSET\r\n$5\r\nbad-3\r\n*1\r\n$1\r\nx\r\n", "expected '$'")]
    [InlineData("*3\r\n$3\r\nSET\r\n$5\r\nbad-4\r\n$99999999\r\n", "--max-value-bytes")]
    [InlineData("*99999\r\n", "invalid multibulk length")]
    public async Task AFrameThatCannotBeTrustedGetsAnErrorAClosedConnectionAndStoresNothing(string frame, string expected)
    {
        using var raw = await RawConnection.OpenAsync(_node.RespEndPoint!);
        await raw.SendAsync(frame);
        var reply = await raw.ReadToEndAsync();
        Assert.StartsWith("-ERR Protocol error", reply, StringComparison.Ordinal);
        Assert.Contains(expected, reply, StringComparison.Ordinal);
        var db = _redis.GetDatabase();
        Assert.False(await db.KeyExistsAsync(["bad-1", "bad-2", "bad-3", "bad-4"]) > 0);
        Assert.Equal("PONG", (string?)await db.ExecuteAsync("PING"));
    }

    [Fact]
    public async Task UnknownAndUnofferedCommandsAnswerAnErrorAndTheConnectionStaysUsable()
    {
        using var raw = await RawConnection.OpenAsync(_node.RespEndPoint!);
        await raw.SendAsync("*1\r\n$7\r\nNOTACMD\r\n*2\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n*1\r\n$7\r\nCLUSTER\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nPING\r\n");
        Assert.StartsWith("-ERR unknown command 'NOTACMD'", await raw.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Contains("a Redis command that RingKV does not offer", await raw.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("-ERR This instance has cluster support disabled", await raw.ReadLineAsync());
        Assert.Equal("$-1", await raw.ReadLineAsync());
        Assert.Equal("+PONG", await raw.ReadLineAsync());
        await raw.SendAsync("GET\r\nGET k\r\n");
        Assert.Equal("-ERR wrong number of arguments for 'get' command", await raw.ReadLineAsync());
        Assert.Equal("$-1", await raw.ReadLineAsync());
    }

    [Fact]
    public async Task ExpiryOptionsTakePositiveIntegersOnlyAsInRedis()
    {
        using var raw = await RawConnection.OpenAsync(_node.RespEndPoint!);
        await raw.SendAsync("SET e v EX 0\r\nSET e v PX abc\r\nSETEX e -1 v\r\nPSETEX e 0 v\r\nSET e v\r\nGETEX e EX 0\r\nGETEX e PXAT 1\r\nEXISTS e\r\n");
        Assert.Equal("-ERR invalid expire time in 'set' command", await raw.ReadLineAsync());
        Assert.Equal("-ERR value is not an integer or out of range", await raw.ReadLineAsync());
        Assert.Equal("-ERR invalid expire time in 'setex' command", await raw.ReadLineAsync());
        Assert.Equal("-ERR invalid expire time in 'psetex' command", await raw.ReadLineAsync());
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.Equal("-ERR invalid expire time in 'getex' command", await raw.ReadLineAsync());
        // A time already past: the value is returned and the key is gone, as in Redis.
        Assert.Equal("$1", await raw.ReadLineAsync());
        Assert.Equal("v", await raw.ReadLineAsync());
        Assert.Equal(":0", await raw.ReadLineAsync());
    }

    [Fact]
    public async Task HelloThreeSwitchesToResp3Replies()
    {
        using var raw = await RawConnection.OpenAsync(_node.RespEndPoint!);
        await raw.SendAsync("HELLO 3\r\nGET missing\r\nHELLO 4\r\n");
        Assert.Equal("%7", await raw.ReadLineAsync());
        var hello = new List<string?>();
        while (hello.LastOrDefault() != "*0")
        {
            hello.Add(await raw.ReadLineAsync());
        }
        Assert.Equal(":3", hello[hello.IndexOf("proto") + 1]);
        Assert.Equal("_", await raw.ReadLineAsync());
        Assert.StartsWith("-NOPROTO", await raw.ReadLineAsync(), StringComparison.Ordinal);
    }
}

/// <summary>Authentication on the RESP door: the node's tokens and roles, with Redis's own errors.</summary>
public sealed class RespAuthTests : IAsyncLifetime
{
    private readonly string _authFile = Path.Combine(Path.GetTempPath(), "ringkv-resp-auth-" + Guid.NewGuid().ToString("N") + ".json");
    private NodeServer _node = null!;
    private string _read = null!;
    private string _write = null!;

    public async Task InitializeAsync()
    {
        var read = TokenStore.Create("reader", Role.Read);
        var write = TokenStore.Create("writer", Role.Write);
        (_read, _write) = (read.Token, write.Token);
        TokenStore.Write(_authFile, [read.Record, write.Record]);
        _node = await NodeServer.StartAsync("memory", options => options.AuthFile = _authFile);
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        File.Delete(_authFile);
    }

    [Fact]
    public async Task NothingRunsBeforeAuthAndEachRoleRunsOnlyItsCommands()
    {
        using var raw = await RawConnection.OpenAsync(_node.RespEndPoint!);
        await raw.SendAsync("GET k\r\nAUTH wrong\r\nAUTH " + _read + "\r\nGET k\r\nSET k v\r\nAUTH writer " + _write + "\r\nSET k v\r\nAUTH reader " + _write + "\r\n");
        Assert.StartsWith("-NOAUTH", await raw.ReadLineAsync(), StringComparison.Ordinal);
        Assert.StartsWith("-WRONGPASS", await raw.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.Equal("$-1", await raw.ReadLineAsync());
        Assert.StartsWith("-NOPERM User reader has no permissions to run the 'set' command", await raw.ReadLineAsync(), StringComparison.Ordinal);
        Assert.Equal("+OK", await raw.ReadLineAsync());
        Assert.Equal("+OK", await raw.ReadLineAsync());
        // A token under another name's user is refused.
        Assert.StartsWith("-WRONGPASS", await raw.ReadLineAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AClientWithTheTokenAsPasswordConnectsAndWrites()
    {
        await using var redis = await RespNodeTests.ConnectAsync(_node.RespEndPoint!, _write);
        var db = redis.GetDatabase();
        Assert.True(await db.StringSetAsync("authed", "yes"));
        Assert.Equal("yes", await db.StringGetAsync("authed"));
    }
}

/// <summary>A plain socket for tests about the bytes on the wire.</summary>
internal sealed class RawConnection : IDisposable
{
    private readonly TcpClient _client;
    private readonly StreamReader _reader;
    private readonly NetworkStream _stream;

    private RawConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _stream.ReadTimeout = 10_000;
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    public static async Task<RawConnection> OpenAsync(IPEndPoint endpoint)
    {
        var client = new TcpClient();
        await client.ConnectAsync(endpoint);
        return new RawConnection(client);
    }

    public Task SendAsync(string text) => _stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

    public async Task<string?> ReadLineAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _reader.ReadLineAsync(timeout.Token);
    }

    /// <summary>Everything until the server closes the connection (a deadline fails the test rather than hang it).</summary>
    public async Task<string> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _reader.ReadToEndAsync(timeout.Token);
    }

    /// <summary>Waits until the server closes the connection, gracefully or with a reset.</summary>
    public async Task WaitForCloseAsync()
    {
        try
        {
            Assert.Equal(string.Empty, await ReadToEndAsync());
        }
        catch (IOException)
        {
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _client.Dispose();
    }
}

/// <summary>A RESP connection is held to the HTTP listener's timeouts: idle and slow clients are dropped, others keep being served.</summary>
public sealed class RespTimeoutTests : IAsyncLifetime
{
    private static readonly TimeSpan Shortest = RingKv.Node.Hosting.ServerLimits.ShortestTimeout;
    private NodeServer _node = null!;

    public async Task InitializeAsync() => _node = await NodeServer.StartAsync("memory", options => options.Limits = new RingKv.Node.Hosting.ServerLimits
    {
        KeepAliveTimeout = Shortest,
        RequestHeadersTimeout = Shortest,
        MinBodyRateGracePeriod = Shortest,
    });

    public Task DisposeAsync() => _node.DisposeAsync().AsTask();

    [Fact]
    public async Task AnIdleConnectionIsClosedAfterTheKeepAliveTimeout()
    {
        using var idle = await RawConnection.OpenAsync(_node.RespEndPoint!);
        using var busy = await RawConnection.OpenAsync(_node.RespEndPoint!);
        var started = System.Diagnostics.Stopwatch.StartNew();
        // Keep one connection active past the timeout: only the idle one goes.
        while (started.Elapsed < Shortest + TimeSpan.FromSeconds(1.5))
        {
            await busy.SendAsync("PING\r\n");
            Assert.Equal("+PONG", await busy.ReadLineAsync());
        }
        await idle.WaitForCloseAsync();
        await busy.SendAsync("PING\r\n");
        Assert.Equal("+PONG", await busy.ReadLineAsync());
    }

    [Fact]
    public async Task ACommandThatArrivesTooSlowlyIsCutOffAndNothingIsStored()
    {
        using var slow = await RawConnection.OpenAsync(_node.RespEndPoint!);
        await slow.SendAsync("*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$100\r\nonly a few bytes");
        await slow.WaitForCloseAsync();
        using var other = await RawConnection.OpenAsync(_node.RespEndPoint!);
        await other.SendAsync("EXISTS slow\r\n");
        Assert.Equal(":0", await other.ReadLineAsync());
    }
}
