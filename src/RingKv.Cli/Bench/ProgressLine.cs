using System.Globalization;

namespace RingKv.Cli.Bench;

/// <summary>
/// The live line on standard error, once a second: rewritten in place with '\r' on a terminal,
/// one line per second when standard error is a file or a pipe (so logs stay readable).
/// </summary>
public sealed class ProgressLine
{
    private readonly TextWriter _error = Console.Error;
    private readonly bool _inPlace = !Console.IsErrorRedirected;
    private long _lastRequests;
    private int _lastWidth;

    public async Task RunAsync(LoadGenerator generator, TimeSpan duration, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Write(generator, duration);
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over.
        }
        if (_inPlace && _lastWidth > 0)
        {
            await _error.WriteAsync("\r" + new string(' ', _lastWidth) + "\r");
        }
    }

    private void Write(LoadGenerator generator, TimeSpan duration)
    {
        var requests = generator.Requests;
        var perSecond = requests - _lastRequests;
        _lastRequests = requests;
        var line = string.Create(
            CultureInfo.InvariantCulture,
            $"[{generator.Elapsed.TotalSeconds:0}s/{duration.TotalSeconds:0}s] {perSecond,8} ops/s  total {requests}  errors {generator.Errors}");
        if (_inPlace)
        {
            _error.Write("\r" + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
        }
        else
        {
            _error.WriteLine(line);
        }
    }
}
