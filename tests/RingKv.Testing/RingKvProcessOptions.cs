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
}
