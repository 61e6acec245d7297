using System.Runtime.InteropServices;

namespace RingKv.Testing;

/// <summary>POSIX signals for processes we started: .NET's Process only offers SIGKILL.</summary>
public static partial class Signals
{
    // Linux numbering (x86-64 and arm64). macOS differs for STOP/CONT; the suite runs on Linux.
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigStop = 19;
    public const int SigCont = 18;

    public static void Send(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new InvalidOperationException($"kill({pid}, {signal}) failed with errno {errno}.");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
