using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using RingKv.Node.Hosting;
using RingKv.Node.Membership;
using RingKv.Node.Security;
using RingKv.Storage;

namespace RingKv.Node.Resp;

/// <summary>
/// What every RESP connection of a node shares: the node's request path, the token store, the
/// key locks of read-modify-write commands, the list of connected clients (CLIENT LIST, INFO)
/// and their figures. One per node; the connections come and go.
/// </summary>
public sealed partial class RespServer : IDisposable
{
    private readonly ConcurrentDictionary<long, RespConnection> _connections = new();
    private readonly ITimer _watchdog;
    private readonly ILogger _logger;
    private long _nextClientId;
    private long _connectionsReceived;
    private long _commandsProcessed;
    private long _keyspaceHits;
    private long _keyspaceMisses;
    private long _protocolErrors;

    public RespServer(NodeContext node, NodeOptions options, ClientTokens tokens, AuditLog audit, IStorageEngine engine, ClusterView view, TimeProvider time, ILogger<RespServer> logger)
    {
        Node = node;
        Options = options;
        Tokens = tokens.Store;
        Audit = audit;
        Engine = engine;
        View = view;
        Time = time;
        _logger = logger;
        Limits = RespLimits.For(options.MaxValueBytes, options.MaxKeyBytes);
        StartedAt = time.GetUtcNow();
        // Kestrel's own timeouts (keep-alive, request headers, body rate) belong to HTTP; a RESP
        // connection is held to the same figures by this once-a-second check.
        _watchdog = time.CreateTimer(_ => DropStalledConnections(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public NodeContext Node { get; }

    public NodeOptions Options { get; }

    /// <summary>Null when the node has no auth file: every connection may run every command (loopback only, protected mode).</summary>
    public TokenStore? Tokens { get; }

    public AuditLog Audit { get; }

    public IStorageEngine Engine { get; }

    public ClusterView View { get; }

    public TimeProvider Time { get; }

    public RespLimits Limits { get; }

    public DateTimeOffset StartedAt { get; }

    public RespKeyLocks KeyLocks { get; } = new();

    public int ConnectedClients => _connections.Count;

    public long ConnectionsReceived => Interlocked.Read(ref _connectionsReceived);

    public long CommandsProcessed => Interlocked.Read(ref _commandsProcessed);

    public long KeyspaceHits => Interlocked.Read(ref _keyspaceHits);

    public long KeyspaceMisses => Interlocked.Read(ref _keyspaceMisses);

    public long ProtocolErrors => Interlocked.Read(ref _protocolErrors);

    public IEnumerable<RespConnection> Connections => _connections.Values.OrderBy(c => c.Id);

    public long Register(RespConnection connection)
    {
        var id = Interlocked.Increment(ref _nextClientId);
        Interlocked.Increment(ref _connectionsReceived);
        _connections[id] = connection;
        return id;
    }

    public void Unregister(long id) => _connections.TryRemove(id, out _);

    public void Processed(int commands) => Interlocked.Add(ref _commandsProcessed, commands);

    public void Hit(bool found)
    {
        if (found)
        {
            Interlocked.Increment(ref _keyspaceHits);
        }
        else
        {
            Interlocked.Increment(ref _keyspaceMisses);
        }
    }

    public void ProtocolError(string remote, string error)
    {
        Interlocked.Increment(ref _protocolErrors);
        LogProtocolError(_logger, remote, error);
    }

    public long NowMs() => Time.GetUtcNow().ToUnixTimeMilliseconds();

    private void DropStalledConnections()
    {
        var now = Time.GetTimestamp();
        foreach (var connection in _connections.Values)
        {
            if (connection.StalledReason(now, Options.Limits) is { } reason)
            {
                LogDropped(_logger, connection.Id, connection.RemoteAddress, reason);
                connection.Abort();
            }
        }
    }

    public void Dispose() => _watchdog.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "RESP protocol error from {Remote}: {Error}; connection closed")]
    private static partial void LogProtocolError(ILogger logger, string remote, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "RESP client {Id} from {Remote} dropped: {Reason}")]
    private static partial void LogDropped(ILogger logger, long id, string remote, string reason);
}

/// <summary>The node's client tokens (its <c>--auth-file</c>), shared by the HTTP and RESP doors; null store without one.</summary>
public sealed record ClientTokens(TokenStore? Store);

/// <summary>
/// Locks that serialize the read-modify-write commands (INCR, APPEND, SET ... GET, EXPIRE ...)
/// of one key on this node, whichever connection sends them: two clients incrementing a key
/// through the same node never lose an increment. Striped, so memory does not grow with keys;
/// commands on two keys take their stripes in index order, so they cannot deadlock.
/// </summary>
public sealed class RespKeyLocks
{
    private const int Stripes = 1024;
    private readonly SemaphoreSlim[] _locks = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public static int StripeOf(ulong token) => (int)(token % Stripes);

    public async ValueTask<Releaser> AcquireAsync(ulong token, CancellationToken cancellationToken)
    {
        var stripe = _locks[StripeOf(token)];
        await stripe.WaitAsync(cancellationToken);
        return new Releaser(stripe, null);
    }

    public async ValueTask<Releaser> AcquireAsync(ulong first, ulong second, CancellationToken cancellationToken)
    {
        var a = StripeOf(first);
        var b = StripeOf(second);
        if (a == b)
        {
            return await AcquireAsync(first, cancellationToken);
        }
        var (low, high) = a < b ? (a, b) : (b, a);
        await _locks[low].WaitAsync(cancellationToken);
        try
        {
            await _locks[high].WaitAsync(cancellationToken);
        }
        catch
        {
            _locks[low].Release();
            throw;
        }
        return new Releaser(_locks[low], _locks[high]);
    }

    public readonly struct Releaser(SemaphoreSlim first, SemaphoreSlim? second) : IDisposable
    {
        public void Dispose()
        {
            second?.Release();
            first.Release();
        }
    }
}
