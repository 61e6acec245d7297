using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace RingKv.Testing;

/// <summary>
/// Sends bytes exactly as given over a socket. HttpClient and Uri normalise what a hostile client
/// would not (dot segments, encodings, header counts), so the bad-input tests speak HTTP themselves.
/// </summary>
public static partial class RawHttp
{
    public sealed record Response(int Status, string Head, string Body);

    /// <summary>Everything the server sent on one connection until it closed it (or the deadline passed), and the statuses of the responses in it.</summary>
    public sealed record Exchange(string Text, IReadOnlyList<int> Statuses, bool ClosedByServer, TimeSpan Elapsed);

    public static async Task<Response> SendAsync(Uri server, string requestHead, byte[]? body = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(requestHead);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        using var socket = await ConnectAsync(server, cts.Token);
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

    /// <summary>
    /// Writes <paramref name="request"/>, optionally half-closes (the client sends nothing more),
    /// then reads until the server closes the connection or <paramref name="deadline"/> passes.
    /// For requests whose answer is not one well-formed response: several pipelined ones, a body
    /// cut short, bytes that are not HTTP at all.
    /// </summary>
    public static async Task<Exchange> ExchangeAsync(Uri server, byte[] request, bool halfClose, TimeSpan deadline)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(request);
        var clock = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(deadline);
        using var socket = await ConnectAsync(server, cts.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        try
        {
            await stream.WriteAsync(request, cts.Token);
            if (halfClose)
            {
                socket.Shutdown(SocketShutdown.Send);
            }
        }
        catch (IOException)
        {
            // Closed by the server while we were still writing: what it answered is below.
        }
        var (text, closed) = await ReadUntilClosedAsync(stream, cts.Token);
        return new Exchange(text, StatusesIn(text), closed, clock.Elapsed);
    }

    /// <summary>Opens a connection and sends <paramref name="first"/>, then one byte of <paramref name="rest"/> every <paramref name="interval"/> until the server closes (a slow client).</summary>
    public static async Task<Exchange> TrickleAsync(Uri server, byte[] first, byte[] rest, TimeSpan interval, TimeSpan deadline)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(rest);
        var clock = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(deadline);
        using var socket = await ConnectAsync(server, cts.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        var reading = ReadUntilClosedAsync(stream, cts.Token);
        try
        {
            await stream.WriteAsync(first, cts.Token);
            for (var i = 0; i < rest.Length && !reading.IsCompleted; i++)
            {
                // Slow by design: this client is the slowloris the server must cut off.
                await Task.WhenAny(reading, Task.Delay(interval, cts.Token));
                if (!reading.IsCompleted)
                {
                    await stream.WriteAsync(rest.AsMemory(i, 1), cts.Token);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
            // The server closed the connection on us, or the deadline passed: both reported below.
        }
        var (text, closed) = await reading;
        return new Exchange(text, StatusesIn(text), closed, clock.Elapsed);
    }

    public static async Task<Socket> ConnectAsync(Uri server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server.Host, server.Port, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task<(string Text, bool Closed)> ReadUntilClosedAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                received.Write(buffer, 0, read);
            }
            return (Encoding.Latin1.GetString(received.ToArray()), true);
        }
        catch (IOException)
        {
            // A reset is a close too.
            return (Encoding.Latin1.GetString(received.ToArray()), true);
        }
        catch (OperationCanceledException)
        {
            return (Encoding.Latin1.GetString(received.ToArray()), false);
        }
    }

    private static List<int> StatusesIn(string text) =>
        StatusLine().Matches(text).Select(m => int.Parse(m.Groups["status"].Value, CultureInfo.InvariantCulture)).ToList();

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
        var status = int.Parse(head.Split(' ')[1], CultureInfo.InvariantCulture);
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        var bodyText = text[(end + 4)..];
        if (lengthLine is not null)
        {
            var length = int.Parse(lengthLine["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
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

    [GeneratedRegex(@"(?:^|\r\n)HTTP/1\.[01] (?<status>\d{3}) ")]
    private static partial Regex StatusLine();
}
