using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RingKv.Testing;

/// <summary>
/// A real <c>ringkv</c> process started by a test: output captured for failure messages, signals
/// for fault injection (kill, terminate, pause, resume), and stopped by its id on dispose, also
/// when the test failed.
/// </summary>
public sealed partial class RingKvProcess : IAsyncDisposable
{
    /// <summary>Variables a developer's shell may set that would silently point a test elsewhere.</summary>
    private static readonly string[] ScrubbedVariables = ["RINGKV_URL", "RINGKV_TOKEN", "RINGKV_CA", "ASPNETCORE_URLS", "ASPNETCORE_HTTP_PORTS", "DOTNET_URLS"];

    private static readonly TimeSpan DisposeDeadline = TimeSpan.FromSeconds(15);

    private readonly Process _process;
    private readonly string _commandLine;
    private readonly OutputBuffer _stdout = new();
    private readonly OutputBuffer _stderr = new();
    private readonly Task _pumps;

    private RingKvProcess(ProcessStartInfo startInfo, string commandLine, RingKvProcessOptions options)
    {
        _commandLine = commandLine;
        startInfo.UseShellExecute = false;
        startInfo.RedirectStandardInput = true;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        if (options.WorkingDirectory is not null)
        {
            startInfo.WorkingDirectory = options.WorkingDirectory;
        }
        foreach (var name in ScrubbedVariables)
        {
            startInfo.Environment.Remove(name);
        }
        startInfo.Environment["DOTNET_NOLOGO"] = "1";
        startInfo.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in options.Environment)
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        _process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {commandLine}.");
        _pumps = Task.WhenAll(
            _stdout.PumpAsync(_process.StandardOutput.BaseStream),
            _stderr.PumpAsync(_process.StandardError.BaseStream),
            FeedStandardInputAsync(options.StandardInput));
    }

    /// <summary>The dotnet host running these tests, so children use the same SDK even when PATH has another.</summary>
    private static string DotnetHost =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public byte[] StandardOutputBytes => _stdout.ToArray();

    public string StandardOutput => _stdout.Text;

    public string StandardError => _stderr.Text;

    /// <summary>Starts <c>dotnet ringkv.dll args...</c> with the built command (see <see cref="RingKvExecutable"/>).</summary>
    public static RingKvProcess Start(params string[] args) => Start(args, new RingKvProcessOptions());

    public static RingKvProcess Start(IEnumerable<string> args, RingKvProcessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dll = RingKvExecutable.Dll;
        ProcessStartInfo startInfo;
        var prefix = "";
        if (options.NetworkNamespace is { } name)
        {
            startInfo = new ProcessStartInfo("ip");
            foreach (var arg in new[] { "netns", "exec", name, DotnetHost })
            {
                startInfo.ArgumentList.Add(arg);
            }
            prefix = $"ip netns exec {name} ";
        }
        else if (options.PrivateTmpfs is { } tmpfs)
        {
            // unshare and sh both exec in place: the process id is the node's. Mounts made in the new
            // namespace are private to it and vanish with its last process.
            startInfo = new ProcessStartInfo("unshare");
            foreach (var arg in new[] { "--mount", "--propagation", "private", "sh", "-c", $"mkdir -p \"$0\" && mount -t tmpfs -o size={tmpfs.SizeMiB}m tmpfs \"$0\" && exec \"$@\"", tmpfs.Directory, DotnetHost })
            {
                startInfo.ArgumentList.Add(arg);
            }
            prefix = $"unshare --mount (tmpfs {tmpfs.SizeMiB} MiB on {tmpfs.Directory}) ";
        }
        else
        {
            startInfo = new ProcessStartInfo(DotnetHost);
        }
        startInfo.ArgumentList.Add(dll);
        var list = args.ToList();
        foreach (var arg in list)
        {
            startInfo.ArgumentList.Add(arg);
        }
        return new RingKvProcess(startInfo, prefix + "ringkv " + Quote(list), options);
    }

    /// <summary>Starts any executable, such as the <c>./ringkv</c> script, under the same supervision.</summary>
    public static RingKvProcess StartExecutable(string fileName, IEnumerable<string> args, RingKvProcessOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var startInfo = new ProcessStartInfo(fileName);
        var list = args.ToList();
        foreach (var arg in list)
        {
            startInfo.ArgumentList.Add(arg);
        }
        return new RingKvProcess(startInfo, fileName + " " + Quote(list), options);
    }

    /// <summary>Runs a command to completion and returns how it ended; kills it if it outlives the deadline.</summary>
    public static async Task<CommandResult> RunAsync(IEnumerable<string> args, TimeSpan deadline, RingKvProcessOptions? options = null)
    {
        await using var process = Start(args, options ?? new RingKvProcessOptions());
        var exitCode = await process.WaitForExitAsync(deadline);
        return new CommandResult(exitCode, process.StandardOutputBytes, process.StandardError, process.Describe());
    }

    /// <summary>Waits for the line that announces the URL (<c>... listening on URL</c> or <c>... is up at URL</c>).</summary>
    public async Task<Uri> WaitForUrlAsync(TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            // Take the signal before reading, so output arriving in between wakes us.
            var changed = _stdout.Changed;
            var match = UrlLine().Match(_stdout.Text);
            if (match.Success)
            {
                return new Uri(match.Groups["url"].Value);
            }
            if (_stdout.IsClosed)
            {
                await WaitForExitQuietlyAsync();
                throw new InvalidOperationException($"The process ended before announcing its URL. {Describe()}");
            }
            var remaining = deadline - clock.Elapsed;
            if (remaining <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No 'listening on URL' line within {deadline.TotalSeconds:0.#} s. {Describe()}");
            }
            try
            {
                await changed.WaitAsync(remaining);
            }
            catch (TimeoutException)
            {
                // Loop once more: the check above reports with context.
            }
        }
    }

    /// <summary>Waits for the exit and for all its output; fails with context if it outlives the deadline.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(deadline);
            await _pumps.WaitAsync(deadline);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"The process did not exit within {deadline.TotalSeconds:0.#} s. {Describe()}", e);
        }
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no cleanup, like a crash or the OOM killer.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) when (_process.HasExited)
        {
        }
    }

    /// <summary>SIGTERM: asks for a clean stop.</summary>
    public void Terminate() => Signals.Send(Id, Signals.SigTerm);

    /// <summary>SIGSTOP: the process freezes (a stalled node: it holds its sockets but answers nothing).</summary>
    public void Pause() => Signals.Send(Id, Signals.SigStop);

    /// <summary>SIGCONT: a paused process goes on.</summary>
    public void Resume() => Signals.Send(Id, Signals.SigCont);

    /// <summary>The command line, its state and everything it printed: put it in every failure message.</summary>
    public string Describe()
    {
        var state = _process.HasExited ? $"exited with {_process.ExitCode}" : "running";
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"[{_commandLine}] (pid {Id}, {state})");
        text.Append("\n--- stdout ---\n").Append(Tail(_stdout.Text));
        text.Append("\n--- stderr ---\n").Append(Tail(_stderr.Text));
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // A paused process must be killable too: SIGKILL works on stopped processes.
            Kill();
        }
        await WaitForExitQuietlyAsync();
        _process.Dispose();
    }

    private async Task WaitForExitQuietlyAsync()
    {
        try
        {
            await _process.WaitForExitAsync().WaitAsync(DisposeDeadline);
            await _pumps.WaitAsync(DisposeDeadline);
        }
        catch (TimeoutException)
        {
            // Reported by whoever asked; disposal must not throw over the real failure.
        }
    }

    private async Task FeedStandardInputAsync(byte[]? input)
    {
        try
        {
            if (input is not null)
            {
                await _process.StandardInput.BaseStream.WriteAsync(input);
            }
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The process exited without reading all of its input.
        }
    }

    private static string Tail(string text)
    {
        const int Max = 8_000;
        return text.Length <= Max ? text : "..." + text[^Max..];
    }

    private static string Quote(IEnumerable<string> args) =>
        string.Join(' ', args.Select(a => a.Length == 0 || a.Any(char.IsWhiteSpace) || a.Contains('\'') ? $"'{a.Replace("'", "'\\''")}'" : a));

    [GeneratedRegex(@"(?:listening on|is up at) (?<url>https?://\S+)")]
    private static partial Regex UrlLine();

    [GeneratedRegex(@"\(RESP (?<url>rediss?://[^\s)]+)\)")]
    private static partial Regex RespLine();

    /// <summary>The Redis-protocol address announced after the URL (call after <see cref="WaitForUrlAsync"/>); null when none was.</summary>
    public Uri? AnnouncedRespUrl => RespLine().Match(_stdout.Text) is { Success: true } match ? new Uri(match.Groups["url"].Value) : null;
}
