using System.Net;
using System.Net.Sockets;

namespace RingKv.Coordinator.Hosting;

/// <summary>
/// Listening sockets that several processes of the same user can bind to the same port
/// (Linux SO_REUSEPORT): the kernel hands each new connection to one of them, and to the others
/// once one has exited. Members of a coordinator group on one host serve the one printed URL so.
/// </summary>
public static class SharedPort
{
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    public static Socket Bind(EndPoint endpoint)
    {
        var address = (IPEndPoint)endpoint;
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            if (OperatingSystem.IsLinux())
            {
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            }
            socket.Bind(address);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
