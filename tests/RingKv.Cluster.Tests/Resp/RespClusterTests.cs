using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;
using StackExchange.Redis;

namespace RingKv.Cluster.Tests.Resp;

/// <summary>
/// Redis clients against a cluster of real processes, through the coordinator's RESP address as
/// <c>./ringkv up</c> prints it: StackExchange.Redis with a node SIGKILLed under it, and
/// Debian's redis-cli and redis-benchmark.
/// </summary>
public sealed class RespClusterTests
{
    private static readonly TimeSpan ToolDeadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task ARedisClientSurvivesItsNodeBeingKilledAndNoAcknowledgedWriteIsLost()
    {
        await using var cluster = await TestCluster.StartAsync(4, 3, "rocksdb");
        var gateway = cluster.CoordinatorRespUrl ?? throw new InvalidOperationException("the coordinator announced no RESP address. " + cluster.Coordinator.Describe());
        await using var redis = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { { gateway.Host, gateway.Port } },
            AbortOnConnectFail = false,
            AllowAdmin = true,
            ConnectTimeout = 5000,
            SyncTimeout = 5000,
            AsyncTimeout = 5000,
            ReconnectRetryPolicy = new LinearRetry(200),
        });
        var db = redis.GetDatabase();
        // The node behind this connection: the one to kill, so the client must reconnect.
        var info = (string)(await db.ExecuteAsync("INFO", "server"))!;
        var pid = int.Parse(info.Split("\r\n").Single(line => line.StartsWith("process_id:", StringComparison.Ordinal))["process_id:".Length..], CultureInfo.InvariantCulture);
        var victim = cluster.Nodes.Single(n => n.Process!.Id == pid);

        var acknowledged = new ConcurrentDictionary<string, string>();
        var failures = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var afterKill = -1;
        var writer = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var key = $"resp-kill/{i}";
                var value = "v" + i.ToString(CultureInfo.InvariantCulture);
                try
                {
                    if (await db.StringSetAsync(key, value, TimeSpan.FromHours(1)))
                    {
                        acknowledged[key] = value;
                    }
                }
                catch (Exception ex) when (ex is RedisConnectionException or RedisTimeoutException or RedisServerException)
                {
                    // Not acknowledged: the client may retry; nothing is promised about it.
                    Interlocked.Increment(ref failures);
                }
                if (afterKill >= 0 && acknowledged.Count >= afterKill + 150)
                {
                    return;
                }
            }
        });
        await Eventually.WaitUntilAsync(() => acknowledged.Count >= 150, TimeSpan.FromSeconds(30), () => $"{acknowledged.Count} writes acknowledged before the kill");
        afterKill = acknowledged.Count;
        await cluster.KillAsync(victim);
        await writer;
        Assert.True(acknowledged.Count >= afterKill + 150, $"the client did not come back: {acknowledged.Count} acknowledged, {afterKill} before the kill, {failures} failures");

        // Every acknowledged write reads back, with its TTL, through RESP and through REST on another node.
        var live = cluster.Nodes.First(n => n != victim);
        foreach (var (key, value) in acknowledged)
        {
            Assert.Equal(value, (string?)await db.StringGetAsync(key));
        }
        foreach (var key in acknowledged.Keys.Take(50))
        {
            using var response = await cluster.Http.GetAsync(new Uri(live.Url, "/v1/kv/" + key));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(acknowledged[key], await response.Content.ReadAsStringAsync());
            Assert.True(response.Headers.Contains("X-RingKV-Expires-At"), key + " lost its TTL");
        }
        var newInfo = (string)(await db.ExecuteAsync("INFO", "server"))!;
        Assert.DoesNotContain("process_id:" + pid.ToString(CultureInfo.InvariantCulture) + "\r\n", newInfo, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedisCliAndRedisBenchmarkWorkThroughThePrintedAddress()
    {
        await using var cluster = await TestCluster.StartAsync(3, 3, "memory");
        var gateway = cluster.CoordinatorRespUrl!;
        string[] address = ["-h", gateway.Host, "-p", gateway.Port.ToString(CultureInfo.InvariantCulture)];

        // A scripted redis-cli session, as a user would type it.
        var script = string.Join('\n',
            "SET cli:greeting hello EX 300",
            "GET cli:greeting",
            "APPEND cli:greeting !",
            "INCR cli:counter",
            "INCRBY cli:counter 41",
            "MSET cli:a 1 cli:b 2",
            "MGET cli:a cli:b cli:none",
            "EXISTS cli:a cli:b cli:none",
            "DEL cli:a",
            "TTL cli:counter",
            "TYPE cli:greeting",
            "SCAN 0 MATCH cli:* COUNT 1000",
            "LPUSH cli:list x",
            "GET cli:greeting");
        var session = await RunToolAsync("bash", ["-c", $"redis-cli {string.Join(' ', address)} --no-raw <<'EOF'\n{script}\nEOF"]);
        var lines = session.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("OK", lines[0]);
        Assert.Equal("\"hello\"", lines[1]);
        Assert.Equal("(integer) 6", lines[2]);
        Assert.Equal("(integer) 1", lines[3]);
        Assert.Equal("(integer) 42", lines[4]);
        Assert.Equal("OK", lines[5]);
        Assert.Equal(["1) \"1\"", "2) \"2\"", "3) (nil)"], lines[6..9]);
        Assert.Equal("(integer) 2", lines[9]);
        Assert.Equal("(integer) 1", lines[10]);
        Assert.Equal("(integer) -1", lines[11]);
        Assert.Equal("string", lines[12]);
        Assert.Contains(lines, line => line.EndsWith("\"cli:greeting\"", StringComparison.Ordinal));
        Assert.Contains(lines, line => line.Contains("does not offer", StringComparison.Ordinal));
        Assert.Equal("\"hello!\"", lines[^1]);

        // redis-benchmark, plain and pipelined: every request answered, none with an error.
        foreach (var pipeline in new[] { "1", "16" })
        {
            var output = await RunToolAsync("redis-benchmark", [.. address, "-t", "set,get", "-n", "3000", "-c", "10", "-P", pipeline, "-r", "1000", "-d", "100", "--csv"]);
            Assert.DoesNotContain("rror", output, StringComparison.Ordinal);
            Assert.Contains("\"SET\"", output, StringComparison.Ordinal);
            Assert.Contains("\"GET\"", output, StringComparison.Ordinal);
        }
        // What redis-benchmark wrote is there for REST readers too.
        using var keys = await cluster.Http.GetAsync(new Uri(cluster.CoordinatorUrl, "/v1/kv?prefix=key:&limit=5"));
        Assert.Contains("key:", await keys.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>Runs a tool to completion and returns what it printed; a non-zero exit or a missing tool fails the test.</summary>
    private static async Task<string> RunToolAsync(string tool, string[] args)
    {
        await using var process = RingKvProcess.StartExecutable(tool, args, new RingKvProcessOptions());
        var exit = await process.WaitForExitAsync(ToolDeadline);
        Assert.True(exit == 0, $"{tool} exited with {exit} (redis-tools must be installed: apt-get install redis-tools). {process.Describe()}");
        return process.StandardOutput + process.StandardError;
    }
}
