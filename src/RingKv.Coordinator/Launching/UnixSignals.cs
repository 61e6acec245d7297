using System.Runtime.InteropServices;

namespace RingKv.Coordinator.Launching;

/// <summary>POSIX signals by process id (Process.Kill only sends SIGKILL).</summary>
public static partial class UnixSignals
{
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static bool Send(int pid, int signal) => Kill(pid, signal) == 0;
}
