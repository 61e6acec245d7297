using RingKv.Testing;

namespace RingKv.Cli.Tests;

public sealed class HelpTests
{
    [Theory]
    [InlineData]
    [InlineData("up")]
    [InlineData("node")]
    [InlineData("put")]
    [InlineData("get")]
    [InlineData("delete")]
    [InlineData("keys")]
    [InlineData("bench")]
    [InlineData("backup")]
    [InlineData("restore")]
    public async Task HelpDescribesEveryCommandAndExitsWithZero(params string[] command)
    {
        var result = await RingKvProcess.RunAsync([.. command, "--help"], Deadlines.Command);

        Assert.True(result.ExitCode == ExitCodes.Success, result.Description);
        Assert.Contains("Usage:", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ringkv " + string.Join(' ', command), result.StandardOutput, StringComparison.Ordinal);
    }
}
