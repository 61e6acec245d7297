namespace RingKv.Cli;

/// <summary>The exit codes of every ringkv command: scripts branch on them, so they never change meaning.</summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The key is absent, deleted or expired.</summary>
    public const int NotFound = 1;

    /// <summary>The command line or its input is wrong; nothing was sent.</summary>
    public const int Usage = 2;

    /// <summary>The server answered with an error, or could not be reached, or failed to start.</summary>
    public const int Failure = 3;
}
