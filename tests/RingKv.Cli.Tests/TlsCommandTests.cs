using System.Net;
using RingKv.Node.Security.Tls;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary><c>up --tls</c> and the client commands' trust: the cluster's authority found by itself, named, or refused.</summary>
public sealed class TlsCommandTests
{
    [Fact]
    public async Task UpWithTlsServesHttpsAndTheCliTrustsItsAuthorityOnlyWhenFoundOrNamed()
    {
        using var home = new TempDirectory("cli-up-tls");
        using var elsewhere = new TempDirectory("cli-elsewhere");
        var otherAuthority = LocalAuthority.Ensure(elsewhere.Path, IPAddress.Loopback, TimeProvider.System).AuthorityFile;
        await using var up = RingKvProcess.Start(["up", "--tls", "--nodes", "3", "--port", "0", "--resp-port", "0", "--engine", "memory"], new RingKvProcessOptions { WorkingDirectory = home.Path });

        var url = (await up.WaitForUrlAsync(Deadlines.ClusterStart)).ToString();
        Assert.StartsWith("RingKV is up at https://127.0.0.1:", up.StandardOutput, StringComparison.Ordinal);
        var authority = Path.Combine(home.Path, "ringkv-data", "tls", "ca.crt");
        Assert.True(File.Exists(authority), up.Describe());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(home.Path, "ringkv-data", "tls", "ca.key")));
        }

        // Run from the directory holding ringkv-data: the CLI finds the authority by itself.
        var put = await RingKvProcess.RunAsync(["put", "tls/k", "v", "--url", url], Deadlines.Command, new RingKvProcessOptions { WorkingDirectory = home.Path });
        Assert.True(put.ExitCode == ExitCodes.Success, put.Description);
        // From elsewhere: named with --ca-file, or with RINGKV_CA.
        var named = await RingKvProcess.RunAsync(["get", "tls/k", "--url", url, "--ca-file", authority], Deadlines.Command, new RingKvProcessOptions { WorkingDirectory = elsewhere.Path });
        Assert.True(named.ExitCode == ExitCodes.Success && named.StandardOutput == "v", named.Description);
        var fromEnvironment = await RingKvProcess.RunAsync(["get", "tls/k", "--url", url], Deadlines.Command, new RingKvProcessOptions
        {
            WorkingDirectory = elsewhere.Path,
            Environment = new Dictionary<string, string?> { ["RINGKV_CA"] = authority },
        });
        Assert.True(fromEnvironment.ExitCode == ExitCodes.Success && fromEnvironment.StandardOutput == "v", fromEnvironment.Description);

        // Another authority, or the system's roots: refused, and told what to do.
        var wrongAuthority = await RingKvProcess.RunAsync(["get", "tls/k", "--url", url, "--ca-file", otherAuthority], Deadlines.Command, new RingKvProcessOptions { WorkingDirectory = elsewhere.Path });
        Assert.True(wrongAuthority.ExitCode == ExitCodes.Failure, wrongAuthority.Description);
        Assert.Contains("certificate is not trusted", wrongAuthority.StandardError, StringComparison.Ordinal);
        Assert.Contains("--ca-file", wrongAuthority.StandardError, StringComparison.Ordinal);
        var systemRoots = await RingKvProcess.RunAsync(["get", "tls/k", "--url", url], Deadlines.Command, new RingKvProcessOptions { WorkingDirectory = elsewhere.Path });
        Assert.True(systemRoots.ExitCode == ExitCodes.Failure, systemRoots.Description);
        Assert.Contains("certificate is not trusted", systemRoots.StandardError, StringComparison.Ordinal);
        // Plain HTTP to the TLS listener: a network error, not a server error answer.
        var plain = await RingKvProcess.RunAsync(["get", "tls/k", "--url", url.Replace("https://", "http://", StringComparison.Ordinal)], Deadlines.Command, new RingKvProcessOptions { WorkingDirectory = home.Path });
        Assert.True(plain.ExitCode == ExitCodes.Failure, plain.Description);
        Assert.Contains("cannot reach", plain.StandardError, StringComparison.Ordinal);

        up.Terminate();
        Assert.True(await up.WaitForExitAsync(Deadlines.NodeStop) == ExitCodes.Success, up.Describe());
    }

    [Fact]
    public async Task ANamedCaFileThatDoesNotExistIsAUsageError()
    {
        var result = await RingKvProcess.RunAsync(["get", "k", "--url", "https://127.0.0.1:1", "--ca-file", "no-such-ca.crt"], Deadlines.Command);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.Description);
        Assert.Contains("no-such-ca.crt", result.StandardError, StringComparison.Ordinal);
    }
}
