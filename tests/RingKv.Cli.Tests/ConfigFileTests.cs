using System.Net;
using System.Text.Json.Nodes;
using RingKv.Cli.Configuration;
using RingKv.Client;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>The configuration file: every setting of the options classes, checked, documented, and overridden by the flags given.</summary>
public sealed class ConfigFileTests
{
    [Fact]
    public async Task ConfigCheckListsEveryProblemAndExitsWithTheUsageCode()
    {
        using var dir = new TempDirectory("config");
        var file = dir.Combine("bad.json");
        await File.WriteAllTextAsync(file, """
            {
              "node": { "port": "seven", "fsinc": "batch", "Engine": "memory", "limits": { "maxConections": 10 }, "fsync": "sometimes", "dataDirectory": null },
              "coordinator": { "replicationFactor": 9, "suspectAfter": 3, "evictionGracePeriod": 2 },
              "nodes": {}
            }
            """);

        var result = await RingKvProcess.RunAsync(["config", "check", file], Deadlines.Command);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.Description);
        foreach (var expected in new[]
        {
            "\"node.port\": \"seven\" is not a whole number",
            "unknown key \"node.fsinc\"",
            "unknown key \"node.Engine\": did you mean \"engine\"?",
            "unknown key \"node.limits.maxConections\"",
            "\"node.fsync\": \"sometimes\" is not one of always, batch, never",
            "unknown section \"nodes\"",
            "\"node.dataDirectory\": null is not allowed here",
            "\"coordinator\":",
        })
        {
            Assert.Contains(expected, result.StandardError, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheDefaultsItPrintsPassItsOwnCheckAndMatchTheOptionsClasses()
    {
        using var dir = new TempDirectory("config");
        var defaults = await RingKvProcess.RunAsync(["config", "defaults"], Deadlines.Command);
        Assert.True(defaults.ExitCode == ExitCodes.Success, defaults.Description);
        var file = dir.Combine("defaults.json");
        await File.WriteAllTextAsync(file, defaults.StandardOutput);

        var check = await RingKvProcess.RunAsync(["config", "check", file], Deadlines.Command);

        Assert.True(check.ExitCode == ExitCodes.Success, check.Description);
        var json = JsonNode.Parse(defaults.StandardOutput)!;
        Assert.Equal(7000, json["node"]!["port"]!.GetValue<int>());
        Assert.Equal("batch", json["node"]!["fsync"]!.GetValue<string>());
        Assert.Equal(2, json["node"]!["requestTimeout"]!.GetValue<double>());
        Assert.Equal(10, json["coordinator"]!["evictionGracePeriod"]!.GetValue<double>());
    }

    [Fact]
    public async Task FileSettingsApplyAndFlagsGivenOverrideThem()
    {
        using var dir = new TempDirectory("config");
        var file = dir.Combine("node.json");
        // The file asks for port 1 and rocksdb; the flags ask for a free port and memory. maxValueBytes comes from the file alone.
        await File.WriteAllTextAsync(file, """{ "node": { "port": 1, "engine": "rocksdb", "dataDirectory": "/nonexistent/never-created", "maxValueBytes": 10 } }""");

        await using var node = RingKvProcess.Start(["node", "--config", file, "--port", "0", "--engine", "memory"], new RingKvProcessOptions());
        var url = await node.WaitForUrlAsync(Deadlines.NodeStart);

        Assert.NotEqual(1, url.Port);
        using var http = new HttpClient { BaseAddress = url };
        using var small = await http.PutAsync("/v1/kv/config/small", new ByteArrayContent(new byte[10]));
        Assert.Equal(HttpStatusCode.NoContent, small.StatusCode);
        using var large = await http.PutAsync("/v1/kv/config/large", new ByteArrayContent(new byte[11]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.False(Directory.Exists("/nonexistent/never-created"));
    }

    [Fact]
    public async Task ANodeRefusesToStartWithAnUnknownKeyAndNamesIt()
    {
        using var dir = new TempDirectory("config");
        var file = dir.Combine("node.json");
        await File.WriteAllTextAsync(file, """{ "node": { "port": 0, "respPortt": 6379 } }""");

        var result = await RingKvProcess.RunAsync(["node", "--config", file, "--engine", "memory"], Deadlines.Command);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.Description);
        Assert.Contains("unknown key \"node.respPortt\"", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCoordinatorTakesItsSectionOfTheFile()
    {
        using var dir = new TempDirectory("config");
        var file = dir.Combine("cluster.json");
        await File.WriteAllTextAsync(file, $$"""{ "coordinator": { "port": 0, "dataDirectory": {{System.Text.Json.JsonSerializer.Serialize(dir.Combine("data"))}}, "replicationFactor": 2 } }""");

        await using var coordinator = RingKvProcess.Start(["coordinator", "--config", file], new RingKvProcessOptions());
        var url = await coordinator.WaitForUrlAsync(Deadlines.NodeStart);
        using var client = new RingKvClient(url);

        Assert.Equal(2, (await client.GetClusterAsync()).ReplicationFactor);
        Assert.True(Directory.Exists(dir.Combine("data")));
    }

    /// <summary>Any node setting reaches the nodes `up` starts through the file's node section; the flags `up` gives them still win.</summary>
    [Fact]
    public async Task TheNodesUpStartsTakeTheFilesNodeSection()
    {
        using var dir = new TempDirectory("config-up");
        var file = dir.Combine("cluster.json");
        // maxValueBytes is no flag of up's; port is one the launcher sets (0, a free port) over the file.
        await File.WriteAllTextAsync(file, """{ "coordinator": {}, "node": { "maxValueBytes": 1000, "port": 1 } }""");

        await using var up = RingKvProcess.Start(["up", "--config", file, "--coordinators", "1", "--nodes", "1", "--replicas", "1", "--engine", "memory",
            "--port", "0", "--resp-port", "0", "--data-dir", dir.Combine("data")], new RingKvProcessOptions());
        var url = await up.WaitForUrlAsync(Deadlines.ClusterStart);
        using var http = new HttpClient();
        using (var small = await http.PutAsync(new Uri(url, "/v1/kv/config/small"), new ByteArrayContent(new byte[900])))
        {
            Assert.Equal(HttpStatusCode.NoContent, small.StatusCode);
        }
        using (var large = await http.PutAsync(new Uri(url, "/v1/kv/config/large"), new ByteArrayContent(new byte[1100])))
        {
            Assert.True(large.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{large.StatusCode}: {await large.Content.ReadAsStringAsync()}. {up.Describe()}");
        }
    }

    [Theory]
    [InlineData(ConfigFile.NodeSection)]
    [InlineData(ConfigFile.CoordinatorSection)]
    public async Task EverySettingIsDocumentedInConfigMd(string section)
    {
        // A new property of NodeOptions or CoordinatorOptions is a file setting at once; this makes sure it gets its line in the docs too.
        var docs = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "docs", "CONFIG.md"));
        var missing = ConfigFile.Keys(section).Where(key => !docs.Contains($"`{key}`", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, $"docs/CONFIG.md does not document these {section} settings: {string.Join(", ", missing)}");
    }
}
