using System.Collections.Frozen;
using System.Text;

namespace RingKv.Node.Resp;

/// <summary>What a connection needs before it may run a command.</summary>
public enum RespAccess
{
    /// <summary>Before authentication too: AUTH, HELLO, QUIT, RESET (as in Redis).</summary>
    Always,

    /// <summary>Any authenticated connection (PING, ECHO, CLIENT SETNAME, COMMAND, ...).</summary>
    Connection,

    /// <summary>A token with the read role: reading keys.</summary>
    Read,

    /// <summary>The write role: changing keys.</summary>
    Write,

    /// <summary>The admin role: what shows other clients or the node's settings.</summary>
    Admin,
}

/// <summary>
/// One command as COMMAND and COMMAND DOCS describe it (Redis's arity rule: positive is exact,
/// negative is at least), the role it needs, and the v1 operation it counts as in the request
/// metrics (so RESP traffic shows in the same figures as REST).
/// </summary>
public sealed record RespCommandSpec(
    string Name,
    int Arity,
    string[] Flags,
    int FirstKey,
    int LastKey,
    int Step,
    string Group,
    string Since,
    string Summary,
    RespAccess Access,
    string? Operation,
    Func<RespConnection, byte[][], ValueTask> Handler)
{
    public bool HasValidArity(int count) => Arity >= 0 ? count == Arity : count >= -Arity;
}

/// <summary>Every command RingKV answers over RESP, in one table (docs/RESP.md describes each).</summary>
public static class RespCommandTable
{
    private static readonly string[] ReadFast = ["readonly", "fast"];
    private static readonly string[] Read = ["readonly"];
    private static readonly string[] Write = ["write", "denyoom"];
    private static readonly string[] WriteFast = ["write", "fast"];
    private static readonly string[] Conn = ["fast", "no-auth", "loading", "stale"];
    private static readonly string[] Server = ["loading", "stale"];

    public static IReadOnlyList<RespCommandSpec> All { get; } =
    [
        // Connection
        new("ping", -1, ["fast", "stale"], 0, 0, 0, "connection", "1.0.0", "Returns PONG, or the message given.", RespAccess.Connection, null, static (c, a) => c.PingAsync(a)),
        new("echo", 2, ["fast", "stale"], 0, 0, 0, "connection", "1.0.0", "Returns the message given.", RespAccess.Connection, null, static (c, a) => c.EchoAsync(a)),
        new("hello", -1, Conn, 0, 0, 0, "connection", "6.0.0", "Chooses RESP2 or RESP3, optionally authenticates and names the connection.", RespAccess.Always, null, static (c, a) => c.HelloAsync(a)),
        new("auth", -2, Conn, 0, 0, 0, "connection", "1.0.0", "Authenticates with a RingKV token (AUTH token, or AUTH user token).", RespAccess.Always, null, static (c, a) => c.AuthAsync(a)),
        new("select", 2, ["fast", "loading", "stale"], 0, 0, 0, "connection", "1.0.0", "Selects database 0; there is no other.", RespAccess.Connection, null, static (c, a) => c.SelectAsync(a)),
        new("client", -2, ["loading", "stale"], 0, 0, 0, "connection", "2.4.0", "CLIENT SETNAME|GETNAME|ID|INFO|SETINFO|LIST.", RespAccess.Connection, null, static (c, a) => c.ClientAsync(a)),
        new("quit", -1, Conn, 0, 0, 0, "connection", "1.0.0", "Closes the connection after the reply.", RespAccess.Always, null, static (c, a) => c.QuitAsync(a)),
        new("reset", 1, Conn, 0, 0, 0, "connection", "6.2.0", "Resets the connection: RESP2, no name, default quorums, unauthenticated when tokens are required.", RespAccess.Always, null, static (c, a) => c.ResetAsync(a)),
        new("ringkv", -2, ["fast"], 0, 0, 0, "connection", "1.0.0", "RINGKV CONSISTENCY one|quorum|all, W n|default, R n|default, SETTINGS: this connection's quorums.", RespAccess.Connection, null, static (c, a) => c.RingKvAsync(a)),

        // Server
        new("info", -1, Server, 0, 0, 0, "server", "1.0.0", "Server, clients, memory, persistence, stats, replication, keyspace and cluster figures.", RespAccess.Read, null, static (c, a) => c.InfoAsync(a)),
        new("command", -1, Server, 0, 0, 0, "server", "2.8.13", "COMMAND, COMMAND COUNT|INFO|DOCS|LIST: the commands offered.", RespAccess.Connection, null, static (c, a) => c.CommandAsync(a)),
        new("config", -2, ["admin", "loading", "stale"], 0, 0, 0, "server", "2.0.0", "CONFIG GET pattern...: the node's settings, read only.", RespAccess.Admin, null, static (c, a) => c.ConfigAsync(a)),
        new("time", 1, ["fast", "loading", "stale"], 0, 0, 0, "server", "2.6.0", "The node's clock: seconds and microseconds.", RespAccess.Connection, null, static (c, a) => c.TimeAsync(a)),
        new("dbsize", 1, Read, 0, 0, 0, "server", "1.0.0", "Live keys in the cluster, counted by walking the cluster-wide listing.", RespAccess.Read, "list", static (c, a) => c.DbSizeAsync(a)),

        // Strings
        new("get", 2, ReadFast, 1, 1, 1, "string", "1.0.0", "The value of a key, read at the connection's R.", RespAccess.Read, "get", static (c, a) => c.GetAsync(a)),
        new("set", -3, Write, 1, 1, 1, "string", "1.0.0", "Sets a value: EX|PX|EXAT|PXAT, NX|XX, KEEPTTL, GET.", RespAccess.Write, "put", static (c, a) => c.SetAsync(a)),
        new("setnx", 3, WriteFast, 1, 1, 1, "string", "1.0.0", "Sets a value only if the key does not exist.", RespAccess.Write, "put", static (c, a) => c.SetNxAsync(a)),
        new("setex", 4, Write, 1, 1, 1, "string", "2.0.0", "Sets a value with an expiry in seconds.", RespAccess.Write, "put", static (c, a) => c.SetExAsync(a, 1000)),
        new("psetex", 4, Write, 1, 1, 1, "string", "2.6.0", "Sets a value with an expiry in milliseconds.", RespAccess.Write, "put", static (c, a) => c.SetExAsync(a, 1)),
        new("getset", 3, Write, 1, 1, 1, "string", "1.0.0", "Sets a value and returns the old one.", RespAccess.Write, "put", static (c, a) => c.GetSetAsync(a)),
        new("getdel", 2, WriteFast, 1, 1, 1, "string", "6.2.0", "Returns the value and deletes the key.", RespAccess.Write, "delete", static (c, a) => c.GetDelAsync(a)),
        new("getex", -2, WriteFast, 1, 1, 1, "string", "6.2.0", "Returns the value and changes its expiry: EX|PX|EXAT|PXAT|PERSIST.", RespAccess.Write, "get", static (c, a) => c.GetExAsync(a)),
        new("mget", -2, ReadFast, 1, -1, 1, "string", "1.0.0", "The values of several keys (each read at R).", RespAccess.Read, "get", static (c, a) => c.MGetAsync(a)),
        new("mset", -3, Write, 1, -1, 2, "string", "1.0.1", "Sets several keys, each written at W (not atomically across keys).", RespAccess.Write, "put", static (c, a) => c.MSetAsync(a)),
        new("msetnx", -3, Write, 1, -1, 2, "string", "1.0.1", "Sets several keys only if none exists (checked, then written: not atomic across replicas).", RespAccess.Write, "put", static (c, a) => c.MSetNxAsync(a)),
        new("append", 3, Write, 1, 1, 1, "string", "2.0.0", "Appends to a value; returns the new length.", RespAccess.Write, "put", static (c, a) => c.AppendAsync(a)),
        new("strlen", 2, ReadFast, 1, 1, 1, "string", "2.2.0", "The length of a value.", RespAccess.Read, "get", static (c, a) => c.StrLenAsync(a)),
        new("getrange", 4, Read, 1, 1, 1, "string", "2.4.0", "A substring of a value (inclusive offsets, negative from the end).", RespAccess.Read, "get", static (c, a) => c.GetRangeAsync(a)),
        new("setrange", 4, Write, 1, 1, 1, "string", "2.2.0", "Overwrites part of a value from an offset; returns the new length.", RespAccess.Write, "put", static (c, a) => c.SetRangeAsync(a)),
        new("incr", 2, WriteFast, 1, 1, 1, "string", "1.0.0", "Adds 1 to an integer value.", RespAccess.Write, "put", static (c, a) => c.IncrByAsync(a, 1, hasArgument: false)),
        new("decr", 2, WriteFast, 1, 1, 1, "string", "1.0.0", "Subtracts 1 from an integer value.", RespAccess.Write, "put", static (c, a) => c.IncrByAsync(a, -1, hasArgument: false)),
        new("incrby", 3, WriteFast, 1, 1, 1, "string", "1.0.0", "Adds an integer to an integer value.", RespAccess.Write, "put", static (c, a) => c.IncrByAsync(a, 1, hasArgument: true)),
        new("decrby", 3, WriteFast, 1, 1, 1, "string", "1.0.0", "Subtracts an integer from an integer value.", RespAccess.Write, "put", static (c, a) => c.IncrByAsync(a, -1, hasArgument: true)),
        new("incrbyfloat", 3, WriteFast, 1, 1, 1, "string", "2.6.0", "Adds a floating-point number to a numeric value.", RespAccess.Write, "put", static (c, a) => c.IncrByFloatAsync(a)),

        // Keys and expiry
        new("del", -2, Write, 1, -1, 1, "generic", "1.0.0", "Deletes keys; returns how many existed.", RespAccess.Write, "delete", static (c, a) => c.DelAsync(a)),
        new("unlink", -2, WriteFast, 1, -1, 1, "generic", "4.0.0", "Deletes keys (as DEL: a delete is a tombstone write either way).", RespAccess.Write, "delete", static (c, a) => c.DelAsync(a)),
        new("exists", -2, ReadFast, 1, -1, 1, "generic", "1.0.0", "How many of the keys exist (a key given twice counts twice).", RespAccess.Read, "get", static (c, a) => c.ExistsAsync(a)),
        new("type", 2, ReadFast, 1, 1, 1, "generic", "1.0.0", "string, or none.", RespAccess.Read, "get", static (c, a) => c.TypeAsync(a)),
        new("expire", -3, WriteFast, 1, 1, 1, "generic", "1.0.0", "Sets a key's expiry in seconds: NX|XX|GT|LT.", RespAccess.Write, "put", static (c, a) => c.ExpireAsync(a, 1000, absolute: false)),
        new("pexpire", -3, WriteFast, 1, 1, 1, "generic", "2.6.0", "Sets a key's expiry in milliseconds.", RespAccess.Write, "put", static (c, a) => c.ExpireAsync(a, 1, absolute: false)),
        new("expireat", -3, WriteFast, 1, 1, 1, "generic", "1.2.0", "Sets a key's expiry as a Unix time in seconds.", RespAccess.Write, "put", static (c, a) => c.ExpireAsync(a, 1000, absolute: true)),
        new("pexpireat", -3, WriteFast, 1, 1, 1, "generic", "2.6.0", "Sets a key's expiry as a Unix time in milliseconds.", RespAccess.Write, "put", static (c, a) => c.ExpireAsync(a, 1, absolute: true)),
        new("ttl", 2, ReadFast, 1, 1, 1, "generic", "1.0.0", "Seconds left (-1 without expiry, -2 absent).", RespAccess.Read, "get", static (c, a) => c.TtlAsync(a, 1000, absolute: false)),
        new("pttl", 2, ReadFast, 1, 1, 1, "generic", "2.6.0", "Milliseconds left (-1 without expiry, -2 absent).", RespAccess.Read, "get", static (c, a) => c.TtlAsync(a, 1, absolute: false)),
        new("expiretime", 2, ReadFast, 1, 1, 1, "generic", "7.0.0", "The expiry as a Unix time in seconds (-1, -2).", RespAccess.Read, "get", static (c, a) => c.TtlAsync(a, 1000, absolute: true)),
        new("pexpiretime", 2, ReadFast, 1, 1, 1, "generic", "7.0.0", "The expiry as a Unix time in milliseconds (-1, -2).", RespAccess.Read, "get", static (c, a) => c.TtlAsync(a, 1, absolute: true)),
        new("persist", 2, WriteFast, 1, 1, 1, "generic", "2.2.0", "Removes a key's expiry.", RespAccess.Write, "put", static (c, a) => c.PersistAsync(a)),
        new("scan", -2, Read, 0, 0, 0, "generic", "2.8.0", "Iterates the cluster-wide listing: cursor, MATCH, COUNT, TYPE.", RespAccess.Read, "list", static (c, a) => c.ScanAsync(a)),
        new("keys", 2, Read, 0, 0, 0, "generic", "1.0.0", "Keys matching a pattern, at most 10000 (use SCAN beyond).", RespAccess.Read, "list", static (c, a) => c.KeysAsync(a)),
        new("randomkey", 1, Read, 0, 0, 0, "generic", "1.0.0", "A key from a random place on the ring.", RespAccess.Read, "list", static (c, a) => c.RandomKeyAsync(a)),
        new("rename", 3, Write, 1, 2, 1, "generic", "1.0.0", "Renames a key (a write of the new key, then a delete of the old).", RespAccess.Write, "put", static (c, a) => c.RenameAsync(a, onlyIfAbsent: false)),
        new("renamenx", 3, WriteFast, 1, 2, 1, "generic", "1.0.0", "Renames a key only if the new name does not exist.", RespAccess.Write, "put", static (c, a) => c.RenameAsync(a, onlyIfAbsent: true)),
        new("copy", -3, Write, 1, 2, 1, "generic", "6.2.0", "Copies a key's value and expiry to another key: DB 0, REPLACE.", RespAccess.Write, "put", static (c, a) => c.CopyAsync(a)),
    ];

    private static readonly FrozenDictionary<string, RespCommandSpec> ByName =
        All.ToFrozenDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, RespCommandSpec>.AlternateLookup<ReadOnlySpan<char>> ByNameSpan =
        ByName.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// Redis commands RingKV does not offer (lists, sets, hashes, sorted sets, streams, pub/sub,
    /// transactions, scripting, cluster and administration): a clear error rather than "unknown".
    /// </summary>
    private static readonly FrozenSet<string> KnownRedisCommands = new[]
    {
        "lpush", "rpush", "lpop", "rpop", "lrange", "llen", "lindex", "lset", "lrem", "ltrim", "linsert", "blpop", "brpop", "lmove", "blmove", "rpoplpush", "lpos", "lmpop",
        "sadd", "srem", "smembers", "sismember", "scard", "spop", "srandmember", "sinter", "sunion", "sdiff", "smove", "sscan", "sintercard", "smismember",
        "hset", "hget", "hgetall", "hdel", "hexists", "hincrby", "hkeys", "hvals", "hlen", "hmget", "hmset", "hsetnx", "hscan", "hstrlen", "hincrbyfloat", "hrandfield",
        "zadd", "zrem", "zrange", "zscore", "zcard", "zincrby", "zrank", "zrevrange", "zrangebyscore", "zcount", "zscan", "zpopmin", "zpopmax", "bzpopmin", "bzpopmax",
        "xadd", "xread", "xrange", "xlen", "xgroup", "xreadgroup", "xack", "xdel", "xtrim", "xinfo",
        "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "publish", "pubsub", "ssubscribe", "sunsubscribe", "spublish",
        "multi", "exec", "discard", "watch", "unwatch",
        "eval", "evalsha", "eval_ro", "evalsha_ro", "script", "function", "fcall", "fcall_ro",
        "cluster", "readonly", "readwrite", "asking",
        "flushdb", "flushall", "save", "bgsave", "bgrewriteaof", "lastsave", "shutdown", "debug", "monitor", "slaveof", "replicaof", "sync", "psync", "wait", "waitaof", "failover",
        "move", "swapdb", "object", "dump", "restore", "migrate", "sort", "sort_ro", "touch", "memory", "slowlog", "latency", "acl", "module", "lolwut",
        "setbit", "getbit", "bitcount", "bitop", "bitpos", "bitfield", "bitfield_ro", "pfadd", "pfcount", "pfmerge", "geoadd", "geodist", "geosearch", "georadius",
        "lcs", "substr",
    }.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    public static bool TryFind(byte[] name, out RespCommandSpec command)
    {
        command = null!;
        if (name.Length is 0 or > 32)
        {
            return false;
        }
        Span<char> chars = stackalloc char[name.Length];
        for (var i = 0; i < name.Length; i++)
        {
            if (name[i] >= 0x80)
            {
                return false;
            }
            chars[i] = (char)name[i];
        }
        return ByNameSpan.TryGetValue(chars, out command!);
    }

    public static RespCommandSpec? Find(string name) => ByName.GetValueOrDefault(name);

    public static bool IsKnownRedisCommand(string name) => KnownRedisCommands.Contains(name);

    /// <summary>For CONFIG GET and error texts.</summary>
    public static string Lower(byte[] name) => Encoding.UTF8.GetString(name).ToLowerInvariant();
}
