namespace RingKv.Testing;

/// <summary>How to start a <see cref="RingKvProcess"/>; everything optional.</summary>
public sealed class RingKvProcessOptions
{
    /// <summary>Default: a fresh process inherits the test's working directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to set; a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>Written to standard input, which is then closed. Null closes standard input at once.</summary>
    public byte[]? StandardInput { get; init; }

    /// <summary>
    /// A network namespace (see <see cref="Network.VirtualNetwork"/>) to run the process in, through
    /// <c>ip netns exec</c>, which execs in place: the process id stays the one signals go to. Null:
    /// the test's own namespace.
    /// </summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>
    /// A small tmpfs mounted on a directory in a mount namespace of the process's own (<c>unshare
    /// --mount</c>, then <c>exec</c>: the process id stays the one signals go to), so a test can
    /// fill the process's disk without touching the machine's. The mount goes away with the
    /// process, also when the test fails; the test reaches it at <c>/proc/PID/root/DIR</c>.
    /// Needs root. Not with <see cref="NetworkNamespace"/>.
    /// </summary>
    public PrivateTmpfs? PrivateTmpfs { get; init; }
}

/// <param name="Directory">Where the tmpfs is mounted (created if missing), as the process sees it.</param>
/// <param name="SizeMiB">Its size.</param>
public sealed record PrivateTmpfs(string Directory, int SizeMiB)
{
    /// <summary>Why a private tmpfs cannot be mounted here (not root, or no unshare); null when it can.</summary>
    public static string? UnavailableReason()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "A private tmpfs needs Linux mount namespaces.";
        }
        if (!Network.VirtualNetwork.IsRoot())
        {
            return "Mounting a tmpfs in a private mount namespace needs root (CI runs the suite as root).";
        }
        if (!new[] { "/usr/bin/unshare", "/bin/unshare" }.Any(System.IO.File.Exists))
        {
            return "unshare (util-linux) is not installed.";
        }
        return null;
    }
}
