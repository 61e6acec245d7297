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
}
