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
}
