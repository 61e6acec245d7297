using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>The <c>./ringkv</c> script at the repository root: how users run everything.</summary>
public sealed class RingKvScriptTests
{
    private static readonly string Script = Path.Combine(RepositoryRoot.Path, "ringkv");

    [Fact]
    public async Task ScriptBuildsOnFirstUseAndShowsHelpFromTheRepositoryRoot()
    {
        var result = await RunScriptAsync(RepositoryRoot.Path, "--help");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Description);
        Assert.Contains("Usage:", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScriptWorksFromAnyWorkingDirectory()
    {
        using var elsewhere = new TempDirectory("cli-script-cwd");

        var result = await RunScriptAsync(elsewhere.Path, "get", "--help");

        Assert.True(result.ExitCode == ExitCodes.Success, result.Description);
        Assert.Contains("ringkv get", result.StandardOutput, StringComparison.Ordinal);
    }

    private static async Task<CommandResult> RunScriptAsync(string workingDirectory, params string[] args)
    {
        await using var process = RingKvProcess.StartExecutable(Script, args, new RingKvProcessOptions { WorkingDirectory = workingDirectory });
        var exitCode = await process.WaitForExitAsync(Deadlines.ScriptFirstBuild);
        return new CommandResult(exitCode, process.StandardOutputBytes, process.StandardError, process.Describe());
    }
}
