using System.Net;
using System.Net.Sockets;

namespace RingKv.Testing;

/// <summary>
/// A loopback port that was free a moment ago. Prefer starting servers with port 0 and reading the
/// port they print; use this only where a port must be known before start (or for "nothing listens
/// here" tests), accepting that another process may take it in between.
/// </summary>
public static class FreePort
{
    public static int Get()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }
}
