using System.Text;

namespace RingKv.Testing;

/// <summary>
/// Everything a child process wrote to one stream, kept as bytes (a <c>get</c> writes raw values)
/// and readable as text for failure messages. Waiters learn of new data through <see cref="Changed"/>.
/// </summary>
internal sealed class OutputBuffer
{
    private readonly Lock _gate = new();
    private readonly MemoryStream _bytes = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _closed;

    /// <summary>Completes on the next append or at end of stream. Take it before inspecting, so no write is missed in between.</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    public bool IsClosed
    {
        get
        {
            lock (_gate)
            {
                return _closed;
            }
        }
    }

    public byte[] ToArray()
    {
        lock (_gate)
        {
            return _bytes.ToArray();
        }
    }

    public string Text => Encoding.UTF8.GetString(ToArray());

    public async Task PumpAsync(Stream source)
    {
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await source.ReadAsync(chunk)) > 0)
            {
                Signal(chunk.AsSpan(0, read), close: false);
            }
        }
        catch (IOException)
        {
            // The pipe broke because the process was killed: what we have is all there is.
        }
        catch (ObjectDisposedException)
        {
        }
        Signal([], close: true);
    }

    private void Signal(ReadOnlySpan<byte> data, bool close)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            _bytes.Write(data);
            _closed |= close;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }
}
