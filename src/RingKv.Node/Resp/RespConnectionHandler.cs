using Microsoft.AspNetCore.Connections;

namespace RingKv.Node.Resp;

/// <summary>
/// Kestrel's entry point for the RESP listener (<c>--resp-port</c>): Kestrel accepts the socket,
/// applies the connection limit and TLS, and hands over the duplex pipe; the protocol is ours.
/// </summary>
public sealed class RespConnectionHandler(RespServer server) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection) => new RespConnection(server, connection).RunAsync();
}
