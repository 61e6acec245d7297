using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>Exit codes scripts rely on: 2 for usage errors (never System.CommandLine's default 1), 3 when no server answers.</summary>
public sealed class ExitCodeTests
{
    public static TheoryData<string[]> UsageErrors() => new()
    {
        Array.Empty<string>(),
        new[] { "put", "only-a-key" },
        new[] { "get" },
        new[] { "get", "k", "--no-such-option" },
        new[] { "frobnicate" },
        new[] { "keys", "--limit", "0" },
        new[] { "keys", "--limit", "1001" },
        new[] { "keys", "--limit", "many" },
        new[] { "put", "k", "v", "--ttl", "-5" },
        new[] { "get", "k", "--url", "not a url" },
        new[] { "get", "" },
        new[] { "node", "--engine", "floppy" },
        new[] { "node", "--fsync", "sometimes" },
        new[] { "node", "--synced-acks", "some" },
        new[] { "up", "--synced-acks", "two" },
        new[] { "coordinator", "--fsync", "sometimes" },
        new[] { "bench", "--op", "fly" },
        new[] { "bench", "--concurrency", "0" },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public async Task UsageErrorsExitWithTwoAndExplainOnStandardError(string[] args)
    {
        var result = await RingKvProcess.RunAsync(args, Deadlines.Command);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.Description);
        Assert.NotEmpty(result.StandardError.Trim());
        Assert.Empty(result.StandardOutputBytes);
    }

    [Theory]
    [InlineData("get", "k")]
    [InlineData("put", "k", "v")]
    [InlineData("delete", "k")]
    [InlineData("keys")]
    public async Task ClientCommandsExitWithThreeWhenNothingListens(params string[] args)
    {
        var url = $"http://127.0.0.1:{FreePort.Get()}";

        var result = await RingKvProcess.RunAsync([.. args, "--url", url], Deadlines.Command);

        Assert.True(result.ExitCode == ExitCodes.Failure, result.Description);
        Assert.Contains("cannot reach", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BenchExitsWithThreeWhenNothingListens()
    {
        var url = $"http://127.0.0.1:{FreePort.Get()}";

        var result = await RingKvProcess.RunAsync(["bench", "--url", url, "--op", "put", "--duration", "1", "--concurrency", "2", "--json"], Deadlines.Command);

        Assert.True(result.ExitCode == ExitCodes.Failure, result.Description);
    }
}
