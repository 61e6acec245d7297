using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using RingKv.Node.Data;
using RingKv.Node.Hosting;
using RingKv.Node.Security;
using RingKv.Storage;

namespace RingKv.Node.Resp;

/// <summary>
/// One client connection speaking RESP: reads frames, runs the commands in order and writes each
/// reply in the order its command came (pipelining), flushing once per batch read. Its state is
/// the session Redis keeps per connection: protocol version, identity, name, quorum settings.
/// Split by aspect: the loop here, the commands in <c>RespConnection.*.cs</c>.
/// </summary>
public sealed partial class RespConnection
{
    /// <summary>Commands parsed from one read before they run: bounds what a pipelining client makes us hold.</summary>
    private const int MaxBatch = 256;

    private readonly RespServer _server;
    private readonly ConnectionContext _context;
    private readonly RespWriter _writer;
    private readonly CancellationTokenSource _aborted = new();
    private long _lastActivity;
    private long _frameStartedAt;
    private long _frameBytes;
    private volatile bool _busy;
    private bool _closeAfterReply;

    public RespConnection(RespServer server, ConnectionContext context)
    {
        _server = server;
        _context = context;
        _writer = new RespWriter(context.Transport.Output);
        RemoteAddress = context.RemoteEndPoint?.ToString() ?? "unknown";
        LocalAddress = context.LocalEndPoint?.ToString() ?? "unknown";
        ConnectedAt = server.Time.GetUtcNow();
        _lastActivity = server.Time.GetTimestamp();
        Authenticated = server.Tokens is null;
        Id = server.Register(this);
    }

    public long Id { get; }

    public string RemoteAddress { get; }

    public string LocalAddress { get; }

    public DateTimeOffset ConnectedAt { get; }

    public string? Name { get; private set; }

    public string? LibraryName { get; private set; }

    public string? LibraryVersion { get; private set; }

    public int Protocol => _writer.Protocol;

    /// <summary>True once AUTH (or HELLO ... AUTH) succeeded, or from the start when the node has no tokens.</summary>
    public bool Authenticated { get; private set; }

    /// <summary>The token that authenticated; null without authentication.</summary>
    public TokenIdentity? Identity { get; private set; }

    /// <summary>The user name clients see: the token's name, or Redis's <c>default</c>.</summary>
    public string UserName => Identity?.Name ?? "default";

    /// <summary>W for this connection's writes (RINGKV W / CONSISTENCY); null: the cluster's default majority.</summary>
    public int? WriteQuorum { get; private set; }

    /// <summary>R for this connection's reads; null: the default majority.</summary>
    public int? ReadQuorum { get; private set; }

    public string LastCommand { get; private set; } = "NULL";

    public long LastActivityTimestamp => Interlocked.Read(ref _lastActivity);

    private CancellationToken Aborted => _aborted.Token;

    private NodeContext Node => _server.Node;

    public async Task RunAsync()
    {
        var input = _context.Transport.Input;
        var output = _context.Transport.Output;
        var batch = new List<byte[][]>(16);
        using var closed = _context.ConnectionClosed.Register(static state => ((CancellationTokenSource)state!).Cancel(), _aborted);
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(Aborted);
                var buffer = read.Buffer;
                Touch();
                var status = RespParseStatus.Incomplete;
                string? error = null;
                while (batch.Count < MaxBatch)
                {
                    status = RespParser.TryParse(ref buffer, _server.Limits, out var arguments, out error);
                    if (status != RespParseStatus.Complete)
                    {
                        break;
                    }
                    if (arguments.Length > 0)
                    {
                        batch.Add(arguments);
                    }
                }
                TrackFrame(buffer.Length);
                // A full batch leaves commands in the buffer that were not looked at: the next read
                // must return at once rather than wait for more bytes.
                input.AdvanceTo(buffer.Start, status == RespParseStatus.Complete ? buffer.Start : buffer.End);
                if (batch.Count > 0)
                {
                    _busy = true;
                    try
                    {
                        await ExecuteAsync(batch);
                    }
                    finally
                    {
                        _busy = false;
                        _server.Processed(batch.Count);
                        batch.Clear();
                        Touch();
                    }
                }
                if (status == RespParseStatus.Invalid)
                {
                    _server.ProtocolError(RemoteAddress, error!);
                    _writer.Error("ERR " + error);
                    _closeAfterReply = true;
                }
                var flushed = await output.FlushAsync(Aborted);
                if (_closeAfterReply || flushed.IsCompleted || (read.IsCompleted && status != RespParseStatus.Complete))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away or was dropped by the watchdog.
        }
        catch (ConnectionResetException)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            _server.Unregister(Id);
            await input.CompleteAsync();
            await output.CompleteAsync();
            _aborted.Dispose();
        }
    }

    /// <summary>Why the watchdog should drop this connection now, or null.</summary>
    public string? StalledReason(long now, ServerLimits limits)
    {
        if (_busy)
        {
            return null;
        }
        var frameStarted = Interlocked.Read(ref _frameStartedAt);
        if (frameStarted != 0)
        {
            // A command still arriving: the first bytes within the header timeout's allowance, then
            // at least the minimum body rate after its grace, as Kestrel holds an HTTP body to.
            var elapsed = _server.Time.GetElapsedTime(frameStarted, now);
            var expected = limits.MinBodyBytesPerSecond * (elapsed - limits.MinBodyRateGracePeriod).TotalSeconds;
            return elapsed > limits.RequestHeadersTimeout && Interlocked.Read(ref _frameBytes) < expected
                ? $"a command arrived slower than {limits.MinBodyBytesPerSecond} bytes/s"
                : null;
        }
        return _server.Time.GetElapsedTime(LastActivityTimestamp, now) > limits.KeepAliveTimeout
            ? $"idle for more than {limits.KeepAliveTimeout.TotalSeconds} s"
            : null;
    }

    /// <summary>Ends the connection: the pending read or flush is cancelled and the loop closes it (a FIN, not a reset).</summary>
    public void Abort()
    {
        try
        {
            _aborted.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void Touch() => Interlocked.Exchange(ref _lastActivity, _server.Time.GetTimestamp());

    private void TrackFrame(long bufferedBytes)
    {
        if (bufferedBytes == 0)
        {
            Interlocked.Exchange(ref _frameStartedAt, 0);
            Interlocked.Exchange(ref _frameBytes, 0);
        }
        else
        {
            if (Interlocked.Read(ref _frameStartedAt) == 0)
            {
                Interlocked.Exchange(ref _frameStartedAt, _server.Time.GetTimestamp());
            }
            Interlocked.Exchange(ref _frameBytes, bufferedBytes);
        }
    }

    private async ValueTask ExecuteAsync(List<byte[][]> batch)
    {
        var i = 0;
        while (i < batch.Count && !_closeAfterReply)
        {
            var run = ConcurrentRunLength(batch, i);
            if (run > 1)
            {
                await ExecuteConcurrentlyAsync(batch, i, run);
                i += run;
                continue;
            }
            await ExecuteOneAsync(batch[i]);
            i++;
        }
    }

    private async ValueTask ExecuteOneAsync(byte[][] arguments)
    {
        var started = Stopwatch.GetTimestamp();
        if (!RespCommandTable.TryFind(arguments[0], out var command))
        {
            var name = RespText.Printable(arguments[0]);
            LastCommand = name.ToLowerInvariant();
            if (LastCommand == "cluster")
            {
                // Redis's own words: clients (StackExchange.Redis among them) read them as "not a cluster, a standalone server".
                _writer.Error("ERR This instance has cluster support disabled");
                return;
            }
            _writer.Error(RespCommandTable.IsKnownRedisCommand(name)
                ? $"ERR '{name.ToLowerInvariant()}' is a Redis command that RingKV does not offer: RingKV stores strings with expiry (docs/RESP.md lists what it offers)"
                : $"ERR unknown command '{name}', with args beginning with: {RespText.ArgumentsPreview(arguments)}");
            return;
        }
        LastCommand = command.Name;
        if (!command.HasValidArity(arguments.Length))
        {
            _writer.Error($"ERR wrong number of arguments for '{command.Name}' command");
            return;
        }
        if (!MayRun(command))
        {
            return;
        }
        var status = 200;
        try
        {
            await command.Handler(this, arguments);
        }
        catch (RespCommandException ex)
        {
            status = 400;
            _writer.Error(ex.Message);
        }
        catch (Exception ex) when (WriteUnavailable(ex))
        {
            status = 503;
        }
        finally
        {
            if (command.Operation is { } operation)
            {
                Node.Metrics.Request(operation, status, Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }
    }

    /// <summary>Whether the connection may run the command; if not, the refusal has been written.</summary>
    private bool MayRun(RespCommandSpec command)
    {
        if (command.Access == RespAccess.Always)
        {
            return true;
        }
        if (!Authenticated)
        {
            _writer.Error("NOAUTH Authentication required. Send AUTH <token> (a RingKV token from ./ringkv token create), or HELLO 3 AUTH default <token>.");
            return false;
        }
        var required = command.Access switch
        {
            RespAccess.Read => Role.Read,
            RespAccess.Write => Role.Write,
            RespAccess.Admin => Role.Admin,
            _ => (Role?)null,
        };
        if (required is { } role && Identity is { } identity && identity.Role < role)
        {
            _writer.Error($"NOPERM User {identity.Name} has no permissions to run the '{command.Name}' command: it needs a token with the {role.ToString().ToLowerInvariant()} role, this one has {identity.Role.ToString().ToLowerInvariant()}");
            return false;
        }
        return true;
    }

    /// <summary>
    /// The cluster's expected failures (too few replicas, no map yet) as Redis errors; false for
    /// anything else, which is not ours to answer. Used as an exception filter, so the stack is
    /// not unwound for exceptions it does not take.
    /// </summary>
    private bool WriteUnavailable(Exception exception)
    {
        switch (exception)
        {
            case InsufficientReplicasException insufficient:
                WriteInsufficientReplicas(insufficient);
                return true;
            case NodeNotReadyException notReady:
                _writer.Error("LOADING " + notReady.Message + " Retry shortly, or connect to another node.");
                return true;
            case StorageRefusedException refused:
                // Redis refuses writes it cannot persist with -MISCONF (a failed save) or -OOM; ours
                // name the cause: a full disk, or an engine being reopened after an I/O error.
                _writer.Error(refused.State == StorageState.Full
                    ? "NOSPACE " + refused.Message + " Nothing was stored; connect to another node to write."
                    : "TRYAGAIN " + refused.Message + " Nothing was acknowledged; retry shortly.");
                return true;
            default:
                return false;
        }
    }

    private void WriteInsufficientReplicas(InsufficientReplicasException ex) => _writer.Error(ex.Operation == "read"
        ? $"NOREPLICAS Not enough good replicas to read: {ex.Answered} of {ex.Replicas} answered in time, {ex.Required} required. Retry, or lower the quorum (RINGKV CONSISTENCY one)."
        : $"NOREPLICAS Not enough good replicas to write: {ex.Answered} of {ex.Replicas} acknowledged in time, {ex.Required} required. The write may still have been applied on those that answered and will spread from there; retry it, or lower the quorum (RINGKV W 1).");

    /// <summary>
    /// How many commands from <paramref name="start"/> can run at once: a run of plain GETs, or of
    /// plain SETs. Their order is still the client's: SETs are stamped with versions in order, so
    /// last-writer-wins keeps the later of two SETs of one key, and GETs do not change anything. A
    /// read after a write, or any other command, waits for what came before it.
    /// </summary>
    private int ConcurrentRunLength(List<byte[][]> batch, int start)
    {
        if (!Authenticated)
        {
            return 0;
        }
        var kind = ConcurrentKind(batch[start]);
        if (kind == 0 || (Identity is { } identity && identity.Role < (kind == 1 ? Role.Read : Role.Write)))
        {
            return 0;
        }
        var end = start + 1;
        while (end < batch.Count && ConcurrentKind(batch[end]) == kind)
        {
            end++;
        }
        return end - start;
    }

    /// <summary>1: GET key; 2: SET key value (no options); 0: anything else.</summary>
    private static int ConcurrentKind(byte[][] arguments) => arguments.Length switch
    {
        2 when RespText.IsCommand(arguments[0], "GET"u8) => 1,
        3 when RespText.IsCommand(arguments[0], "SET"u8) => 2,
        _ => 0,
    };

    private async ValueTask ExecuteConcurrentlyAsync(List<byte[][]> batch, int start, int count)
    {
        var started = Stopwatch.GetTimestamp();
        var reads = ConcurrentKind(batch[start]) == 1;
        var keys = new string?[count];
        var errors = new string?[count];
        for (var i = 0; i < count; i++)
        {
            if (!RespKeys.TryDecode(batch[start + i][1], Node.Options.MaxKeyBytes, out keys[i], out var error))
            {
                errors[i] = error;
            }
        }
        if (reads)
        {
            LastCommand = "get";
            var pending = new ValueTask<Storage.StoredEntry?>[count];
            for (var i = 0; i < count; i++)
            {
                if (keys[i] is { } key)
                {
                    // Started now, awaited once each below, in order: the point of the run.
#pragma warning disable CA2012
                    pending[i] = Node.Service.GetAsync(key, ReadQuorum, Aborted);
#pragma warning restore CA2012
                }
            }
            for (var i = 0; i < count; i++)
            {
                if (errors[i] is { } error)
                {
                    _writer.Error(error);
                    continue;
                }
                var status = 200;
                try
                {
                    var entry = await pending[i];
                    status = WriteValueOrNull(entry) ? 200 : 404;
                }
                catch (Exception ex) when (WriteUnavailable(ex))
                {
                    status = 503;
                }
                Node.Metrics.Request("get", status, Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            return;
        }
        LastCommand = "set";
        var writes = new ValueTask<Storage.WriteResult>[count];
        for (var i = 0; i < count; i++)
        {
            if (keys[i] is { } key)
            {
#pragma warning disable CA2012
                writes[i] = Node.Service.WriteAsync(NewEntry(key, batch[start + i][2], Storage.StoredEntry.DefaultContentType, 0), Storage.WritePrecondition.None, WriteQuorum, Aborted);
#pragma warning restore CA2012
            }
        }
        for (var i = 0; i < count; i++)
        {
            if (errors[i] is { } error)
            {
                _writer.Error(error);
                continue;
            }
            var status = 204;
            try
            {
                await writes[i];
                _writer.Ok();
            }
            catch (Exception ex) when (WriteUnavailable(ex))
            {
                status = 503;
            }
            Node.Metrics.Request("put", status, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }
}

/// <summary>A command refused for a reason the client can fix: its message is the whole error line (code first).</summary>
public sealed class RespCommandException(string message) : Exception(message);
