using System.Net.Sockets;
using System.Text;

namespace RingKv.Node.Tests.Support;

/// <summary>
/// Sends bytes exactly as given over a socket. HttpClient and Uri normalise what a hostile client
/// would not (dot segments, encodings, header counts), so the bad-input tests speak HTTP themselves.
/// </summary>
public static class RawHttp
{
    public sealed record Response(int Status, string Head, string Body);

    public static async Task<Response> SendAsync(Uri server, string requestHead, byte[]? body = null, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Host, server.Port, cts.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(Encoding.Latin1.GetBytes(requestHead), cts.Token);
        if (body is not null)
        {
            try
            {
                await stream.WriteAsync(body, cts.Token);
            }
            catch (IOException)
            {
                // The server may answer and close before taking a body it refused: read what it said.
            }
        }
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, cts.Token);
            }
            catch (IOException)
            {
                break;
            }
            if (read == 0)
            {
                break;
            }
            received.Write(buffer, 0, read);
            if (TryComplete(received.ToArray(), out var response))
            {
                return response;
            }
        }
        return TryComplete(received.ToArray(), out var last) ? last : throw new InvalidOperationException("No complete HTTP response; got: " + Encoding.Latin1.GetString(received.ToArray()));
    }

    private static bool TryComplete(byte[] data, out Response response)
    {
        response = null!;
        var text = Encoding.UTF8.GetString(data);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }
        var head = text[..end];
        var status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        var bodyText = text[(end + 4)..];
        if (lengthLine is not null)
        {
            var length = int.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            if (Encoding.UTF8.GetByteCount(bodyText) < length)
            {
                return false;
            }
        }
        else if (head.Contains("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase) && !bodyText.EndsWith("0\r\n\r\n", StringComparison.Ordinal))
        {
            return false;
        }
        response = new Response(status, head, bodyText);
        return true;
    }
}
