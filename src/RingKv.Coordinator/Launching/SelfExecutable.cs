using System.Diagnostics;

namespace RingKv.Coordinator.Launching;

/// <summary>How to start this same executable again: nodes run the same binary as the coordinator.</summary>
public static class SelfExecutable
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> arguments)
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find this process's executable.");
        var info = new ProcessStartInfo { UseShellExecute = false };
        // Run as `dotnet ringkv.dll ...`: the first command-line argument is the entry assembly.
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            info.FileName = processPath;
            info.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        }
        else
        {
            info.FileName = processPath;
        }
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        return info;
    }

    /// <summary>
    /// Runs <paramref name="process"/> with its output appended to <paramref name="logPath"/> by the
    /// shell that becomes it (exec, so the process id is the program's): no pipe through the
    /// starting process, so what it started outlives it (a node whose coordinator member died, a
    /// member whose <c>up</c> was killed) without writing into a closed pipe.
    /// </summary>
    public static ProcessStartInfo WritingTo(ProcessStartInfo process, string logPath)
    {
        var shell = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        shell.ArgumentList.Add("-c");
        shell.ArgumentList.Add("log=\"$1\"; shift; exec \"$@\" >>\"$log\" 2>&1");
        shell.ArgumentList.Add("ringkv");
        shell.ArgumentList.Add(logPath);
        shell.ArgumentList.Add(process.FileName);
        foreach (var argument in process.ArgumentList)
        {
            shell.ArgumentList.Add(argument);
        }
        return shell;
    }
}
