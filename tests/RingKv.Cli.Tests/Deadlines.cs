namespace RingKv.Cli.Tests;

/// <summary>
/// How long a test waits before it fails with context. Generous: these bound a hang, they do not
/// measure speed, and the machine is shared (2 cores, builds running alongside).
/// </summary>
internal static class Deadlines
{
    public static readonly TimeSpan Command = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan NodeStart = TimeSpan.FromSeconds(60);

    /// <summary>`up`: a coordinator group elected, then every node started and joined in stages.</summary>
    public static readonly TimeSpan ClusterStart = TimeSpan.FromSeconds(180);
    public static readonly TimeSpan NodeStop = TimeSpan.FromSeconds(30);

    /// <summary>The first <c>./ringkv</c> call restores and builds in Release.</summary>
    public static readonly TimeSpan ScriptFirstBuild = TimeSpan.FromMinutes(8);
}
