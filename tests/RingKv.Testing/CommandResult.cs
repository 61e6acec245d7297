using System.Text;

namespace RingKv.Testing;

/// <summary>How a finished command ended: exit code and everything it wrote.</summary>
/// <param name="Description">The command line and its output, for failure messages.</param>
public sealed record CommandResult(int ExitCode, byte[] StandardOutputBytes, string StandardError, string Description)
{
    public string StandardOutput => Encoding.UTF8.GetString(StandardOutputBytes);

    public override string ToString() => Description;
}
