using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RingKv.Testing.Network;

/// <summary>
/// One host of a <see cref="VirtualNetwork"/>: a network namespace with one address. Processes run
/// in it through <see cref="RingKvProcessOptions.NetworkNamespace"/>; the test talks from inside it
/// with <see cref="CreateHttpClient"/>, so its requests stay on this host's side of a partition.
/// </summary>
public sealed partial class NetworkHost
{
    private const int CloneNewNet = 0x40000000;

    internal NetworkHost(string name, string ns, string hostVeth, IPAddress address)
    {
        Name = name;
        Namespace = ns;
        HostVeth = hostVeth;
        Address = address;
        Bridge = "";
    }

    /// <summary>The test's name for it, e.g. "n3".</summary>
    public string Name { get; }

    /// <summary>The network namespace, for <c>ip netns exec</c>.</summary>
    public string Namespace { get; }

    public IPAddress Address { get; }

    /// <summary>The veth end outside the namespace, plugged into <see cref="Bridge"/>.</summary>
    internal string HostVeth { get; }

    internal string Bridge { get; set; }

    /// <summary>
    /// An HTTP client whose connections are opened from inside this host's namespace: it reaches
    /// exactly what this host reaches, now and after a partition changes that.
    /// </summary>
    public HttpClient CreateHttpClient(TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = timeout,
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = CreateTcpSocket();
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { Timeout = timeout };
    }

    /// <summary>
    /// A TCP socket that belongs to this namespace. A socket keeps the namespace of the thread that
    /// created it, and setns(2) moves only the calling thread, so the thread enters the namespace,
    /// creates the socket and returns to its own namespace with no await in between: no other work
    /// can run on the thread meanwhile.
    /// </summary>
    public Socket CreateTcpSocket()
    {
        using var own = File.OpenHandle("/proc/thread-self/ns/net");
        using var target = File.OpenHandle(Path.Combine("/var/run/netns", Namespace));
        Enter(target, "enter " + Namespace);
        try
        {
            return new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        }
        finally
        {
            // A thread left in the wrong namespace would open every later socket there: fail loudly.
            Enter(own, "return from " + Namespace);
        }
    }

    private static void Enter(SafeFileHandle handle, string what)
    {
        if (setns((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var message = $"setns to {what} failed with errno {errno}.";
            if (what.StartsWith("return", StringComparison.Ordinal))
            {
                Environment.FailFast(message);
            }
            throw new InvalidOperationException(message);
        }
    }

    public override string ToString() => $"{Name} ({Address}, {Namespace})";

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
