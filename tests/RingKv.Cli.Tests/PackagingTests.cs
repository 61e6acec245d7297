using System.Diagnostics;
using System.IO.Compression;
using RingKv.Client;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>
/// The packages install and run on a machine without the repository: the ringkv tool package is
/// packed, installed with <c>dotnet tool install</c>, and its <c>ringkv</c> command serves a PUT and
/// a GET from a RocksDB node (so the native library travels in the package) and from a cluster
/// that `up` starts with it (nodes launched by the installed command); the client package
/// packs with its README. One test: packing and installing take a while.
/// </summary>
[Trait("Category", "Packaging")]
public sealed class PackagingTests
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task TheToolPackageInstallsAndItsRingkvCommandRunsANodeOnRocksDb()
    {
        using var work = new TempDirectory("pack");
        var feed = work.Combine("feed");
        var tools = work.Combine("tools");
        // The same configuration the tests were built in: pack reuses that build instead of making another.
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";

        foreach (var project in new[] { "RingKv.Cli", "RingKv.Client" })
        {
            await RunDotnetAsync(["pack", Path.Combine(RepositoryRoot.Path, "src", project), "-c", configuration, "--no-build", "-o", feed, "--nologo"], work.Path);
        }
        var toolPackage = Directory.GetFiles(feed, "RingKv.Tool.*.nupkg").Single();
        var clientPackage = Directory.GetFiles(feed, "RingKv.Client.*.nupkg").Single();
        using (var zip = ZipFile.OpenRead(toolPackage))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("tools/net10.0/any/DotnetToolSettings.xml", entries);
            Assert.Contains("tools/net10.0/any/runtimes/linux-x64/native/librocksdb.so", entries);
            Assert.Contains("README.md", entries);
        }
        using (var zip = ZipFile.OpenRead(clientPackage))
        {
            var entries = zip.Entries.Select(e => e.FullName).ToList();
            Assert.Contains("lib/net10.0/RingKv.Client.dll", entries);
            Assert.Contains("README.md", entries);
            Assert.DoesNotContain(entries, e => e.Contains("RingKv.Node", StringComparison.Ordinal));
        }

        var version = Path.GetFileNameWithoutExtension(toolPackage)["RingKv.Tool.".Length..];
        await RunDotnetAsync(["tool", "install", "RingKv.Tool", "--version", version, "--tool-path", tools, "--add-source", feed], work.Path);
        var ringkv = Path.Combine(tools, "ringkv");
        Assert.True(File.Exists(ringkv), $"dotnet tool install put no ringkv command in {tools}.");

        var help = await RunAsync(ringkv, ["--help"], work.Path);
        Assert.Contains("coordinator", help, StringComparison.Ordinal);

        // Run from a directory outside the repository: nothing may be found by a relative path.
        await using var node = RingKvProcess.StartExecutable(ringkv, ["node", "--port", "0", "--engine", "rocksdb", "--data-dir", work.Combine("data")],
            new RingKvProcessOptions { WorkingDirectory = work.Path });
        var url = await node.WaitForUrlAsync(Deadlines.NodeStart);
        using (var client = new RingKvClient(url))
        {
            var written = await client.PutAsync("packaged/key", "from the installed tool");
            var entry = await client.GetAsync("packaged/key");
            Assert.NotNull(entry);
            Assert.Equal("from the installed tool", System.Text.Encoding.UTF8.GetString(entry.Value));
            Assert.Equal(written, entry.Version);
        }
        node.Terminate();
        Assert.Equal(0, await node.WaitForExitAsync(Deadlines.NodeStop));

        // The coordinator starts its nodes by running its own executable again: here, the installed command.
        await using var up = RingKvProcess.StartExecutable(ringkv, ["up", "--nodes", "1", "--replicas", "1", "--engine", "memory", "--port", "0", "--data-dir", work.Combine("up")],
            new RingKvProcessOptions { WorkingDirectory = work.Path });
        var upUrl = await up.WaitForUrlAsync(Deadlines.ClusterStart);
        using (var client = new RingKvClient(upUrl))
        {
            await client.PutAsync("packaged/through-gateway", "v");
            Assert.NotNull(await client.GetAsync("packaged/through-gateway"));
        }
        up.Terminate();
        Assert.Equal(0, await up.WaitForExitAsync(Deadlines.NodeStop));
    }

    private static async Task RunDotnetAsync(string[] arguments, string workingDirectory) =>
        await RunAsync(Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet", arguments, workingDirectory);

    /// <summary>Runs a command to its end (killed past <see cref="Step"/>); fails with its output unless it exits 0.</summary>
    private static async Task<string> RunAsync(string fileName, string[] arguments, string workingDirectory)
    {
        await using var process = RingKvProcess.StartExecutable(fileName, arguments, new RingKvProcessOptions { WorkingDirectory = workingDirectory });
        var exitCode = await process.WaitForExitAsync(Step);
        Assert.True(exitCode == 0, $"Exit code {exitCode}. {process.Describe()}");
        return process.StandardOutput;
    }
}
