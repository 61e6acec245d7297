using System.Diagnostics;
using System.Globalization;

namespace RingKv.Cli.Backup;

/// <summary>
/// The progress line of a backup or restore on standard error, once a second: ranges done,
/// entries, the rate over the last second and the time left at the average pace so far. Rewritten
/// in place on a terminal, one line per second into a file or a pipe.
/// </summary>
public sealed class BackupProgress(string what, int spans, TextWriter error)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly bool _inPlace = !Console.IsErrorRedirected;
    private long _entries;
    private int _spansDone;
    private long _lastEntries;
    private int _lastWidth;

    public TimeSpan Elapsed => _clock.Elapsed;

    public long Entries => Interlocked.Read(ref _entries);

    public void Add(long entries) => Interlocked.Add(ref _entries, entries);

    public void SpanDone() => Interlocked.Increment(ref _spansDone);

    public async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                Write();
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }
        if (_inPlace && _lastWidth > 0)
        {
            await error.WriteAsync("\r" + new string(' ', _lastWidth) + "\r");
        }
        else if (!_inPlace)
        {
            // Into a file or a pipe the last figures stay, even for a run shorter than a second.
            await error.WriteLineAsync(Line());
        }
    }

    /// <summary>The line as it would be shown now.</summary>
    public string Line()
    {
        var entries = Entries;
        var perSecond = entries - _lastEntries;
        _lastEntries = entries;
        var done = Volatile.Read(ref _spansDone);
        var left = done == 0 ? "unknown" : Seconds(_clock.Elapsed.TotalSeconds / done * (spans - done));
        return string.Create(CultureInfo.InvariantCulture,
            $"{what}: {done}/{spans} ranges, {entries} entries, {perSecond} entries/s, time left {left}");
    }

    private static string Seconds(double seconds) =>
        seconds < 60 ? seconds.ToString("0", CultureInfo.InvariantCulture) + " s" : (seconds / 60).ToString("0.0", CultureInfo.InvariantCulture) + " min";

    private void Write()
    {
        var line = Line();
        if (_inPlace)
        {
            error.Write("\r" + line.PadRight(_lastWidth));
            _lastWidth = line.Length;
        }
        else
        {
            error.WriteLine(line);
        }
    }
}
