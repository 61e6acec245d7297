using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;
using RingKv.Coordinator.Membership;
using RingKv.Core.Cluster;

namespace RingKv.Coordinator.Gateway;

/// <summary>
/// The Redis-protocol address <c>./ringkv up</c> prints: each client connection is passed through,
/// byte for byte, to the RESP port of a node that is up, taken in turn. Nothing is parsed here: the
/// node speaks RESP (authentication and TLS included, end to end), coordinates each command and
/// may be any node, since every node coordinates every key. When that node dies the connection
/// closes, as a Redis server's would; the client's reconnect lands on a node that is up, because a
/// refused connection moves on to the next one and the map marks a silent node suspect within
/// seconds.
/// </summary>
public sealed partial class RespGateway(MembershipService membership, ILogger<RespGateway> logger) : ConnectionHandler
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);
    private int _next;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        using var backend = await ConnectAsync(connection.ConnectionClosed);
        if (backend is null)
        {
            // No node to pass the connection to: say so in RESP, so redis-cli shows a reason.
            await connection.Transport.Output.WriteAsync("-ERR no RingKV node is up to take this connection; retry shortly\r\n"u8.ToArray());
            return;
        }
        await using var stream = new NetworkStream(backend, ownsSocket: false);
        var upstream = connection.Transport.Input.CopyToAsync(stream, connection.ConnectionClosed);
        var downstream = stream.CopyToAsync(connection.Transport.Output, connection.ConnectionClosed);
        try
        {
            // Whichever side ends first ends the other: a client that left, or a node that stopped.
            await Task.WhenAny(upstream, downstream);
        }
        finally
        {
            backend.Shutdown(SocketShutdown.Both);
            backend.Close();
            await connection.Transport.Output.CompleteAsync();
            await connection.Transport.Input.CompleteAsync();
            await Task.WhenAll(Quietly(upstream), Quietly(downstream));
        }
    }

    private async Task<Socket?> ConnectAsync(CancellationToken cancellationToken)
    {
        var nodes = membership.Map.Members
            .Where(m => m.State == MemberState.Up && m.RespUrl is not null)
            .OrderBy(m => m.Number)
            .ToList();
        var start = nodes.Count == 0 ? 0 : (int)((uint)Interlocked.Increment(ref _next) % nodes.Count);
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[(start + i) % nodes.Count];
            var url = new Uri(node.RespUrl!);
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(ConnectTimeout);
                await socket.ConnectAsync(url.Host, url.Port, timeout.Token);
                return socket;
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                // Nothing was sent to it: the next node is as good.
                LogSkipped(logger, node.Id, ex.Message);
                socket.Dispose();
            }
        }
        return null;
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException or ConnectionResetException or InvalidOperationException)
        {
            // The connection is over either way.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "RESP gateway: node {Id} refused the connection ({Reason}); trying the next")]
    private static partial void LogSkipped(ILogger logger, string id, string reason);
}
