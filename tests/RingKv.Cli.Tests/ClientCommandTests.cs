using System.Text;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>put, get, delete and keys, run as the built command against a real node.</summary>
public sealed class ClientCommandTests(MemoryNodeFixture node) : IClassFixture<MemoryNodeFixture>
{
    [Fact]
    public async Task PutThenGetPrintsTheValueByteForByteWithNothingAdded()
    {
        var key = MemoryNodeFixture.UniquePrefix("roundtrip") + "greeting";

        var put = await node.RunAsync("put", key, "hello, world");
        Assert.True(put.ExitCode == ExitCodes.Success, put.Description);

        var get = await node.RunAsync("get", key);
        Assert.True(get.ExitCode == ExitCodes.Success, get.Description);
        Assert.Equal("hello, world"u8.ToArray(), get.StandardOutputBytes);
    }

    [Fact]
    public async Task PutFromStandardInputStoresTheExactBytes()
    {
        var key = MemoryNodeFixture.UniquePrefix("stdin") + "blob";
        byte[] value = [0x00, 0xFF, 0x0A, 0x0D, 0x80, (byte)'x', 0x00, 0x7F];

        var put = await node.RunAsync(["put", key, "-"], new RingKvProcessOptions { StandardInput = value });
        Assert.True(put.ExitCode == ExitCodes.Success, put.Description);

        var get = await node.RunAsync("get", key);
        Assert.True(get.ExitCode == ExitCodes.Success, get.Description);
        Assert.Equal(value, get.StandardOutputBytes);
        var stored = await node.Client.GetAsync(key);
        Assert.Equal("application/octet-stream", stored?.ContentType);
    }

    [Fact]
    public async Task KeysWithSlashesSpacesAndNonAsciiTextRoundTrip()
    {
        var key = MemoryNodeFixture.UniquePrefix("odd-keys") + "users/42/profile name ü€😀?#&=+%";

        var put = await node.RunAsync("put", key, "v");
        Assert.True(put.ExitCode == ExitCodes.Success, put.Description);

        var get = await node.RunAsync("get", key);
        Assert.True(get.ExitCode == ExitCodes.Success, get.Description);
        Assert.Equal("v", get.StandardOutput);
        Assert.NotNull(await node.Client.GetAsync(key));
    }

    [Fact]
    public async Task PutJsonStoresTheDocumentAsApplicationJson()
    {
        var key = MemoryNodeFixture.UniquePrefix("json") + "doc";
        const string Document = """{"name":"ringkv","replicas":[1,2,3],"nested":{"ok":true}}""";

        var put = await node.RunAsync("put", key, Document, "--json");
        Assert.True(put.ExitCode == ExitCodes.Success, put.Description);

        var stored = await node.Client.GetAsync(key);
        Assert.NotNull(stored);
        Assert.StartsWith("application/json", stored.ContentType, StringComparison.Ordinal);
        Assert.Equal(Document, Encoding.UTF8.GetString(stored.Value));
    }

    [Fact]
    public async Task PutJsonFromStandardInputAcceptsAnyJsonValue()
    {
        var key = MemoryNodeFixture.UniquePrefix("json-scalar") + "doc";

        var put = await node.RunAsync(["put", key, "-", "--json"], new RingKvProcessOptions { StandardInput = "  \"just a string\"\n"u8.ToArray() });
        Assert.True(put.ExitCode == ExitCodes.Success, put.Description);

        var get = await node.RunAsync("get", key);
        Assert.Equal("  \"just a string\"\n", get.StandardOutput);
    }

    [Fact]
    public async Task PutJsonRefusesInvalidJsonLocallyWithUsageExitAndSendsNothing()
    {
        var key = MemoryNodeFixture.UniquePrefix("bad-json") + "doc";

        var put = await node.RunAsync("put", key, """{"unterminated": [1, 2""", "--json");

        Assert.True(put.ExitCode == ExitCodes.Usage, put.Description);
        Assert.Contains("not valid JSON", put.StandardError, StringComparison.Ordinal);
        Assert.Null(await node.Client.GetAsync(key));
    }

    [Fact]
    public async Task ServerRefusalExitsWithThreeAndPrintsTheProblemDetail()
    {
        var key = MemoryNodeFixture.UniquePrefix("server-refusal") + "doc";

        // Without --json nothing is checked locally: the server checks JSON content types itself.
        var put = await node.RunAsync("put", key, "{not json", "--content-type", "application/json");

        Assert.True(put.ExitCode == ExitCodes.Failure, put.Description);
        Assert.Contains("invalid-json", put.StandardError, StringComparison.Ordinal);
        Assert.Contains("400", put.StandardError, StringComparison.Ordinal);
        Assert.Null(await node.Client.GetAsync(key));
    }

    [Fact]
    public async Task GetOfAMissingKeyExitsWithOneAndPrintsNothingOnStandardOutput()
    {
        var get = await node.RunAsync("get", MemoryNodeFixture.UniquePrefix("missing") + "nothing-here");

        Assert.True(get.ExitCode == ExitCodes.NotFound, get.Description);
        Assert.Empty(get.StandardOutputBytes);
        Assert.Contains("not found", get.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAgainstAUrlWithAWrongPathExitsWithThreeNotOne()
    {
        var wrong = new Uri(node.Url, "/not-ringkv/");

        var get = await RingKvProcess.RunAsync(["get", "some-key", "--url", wrong.ToString()], Deadlines.Command);

        // A 404 for a missing endpoint is not a missing key: scripts must not read it as "absent".
        Assert.True(get.ExitCode == ExitCodes.Failure, get.Description);
    }

    [Fact]
    public async Task DeleteRemovesTheKeyAndSucceedsAgainWhenItIsAlreadyGone()
    {
        var key = MemoryNodeFixture.UniquePrefix("delete") + "k";
        Assert.Equal(ExitCodes.Success, (await node.RunAsync("put", key, "v")).ExitCode);

        var delete = await node.RunAsync("delete", key);
        Assert.True(delete.ExitCode == ExitCodes.Success, delete.Description);
        var get = await node.RunAsync("get", key);
        Assert.True(get.ExitCode == ExitCodes.NotFound, get.Description);

        var again = await node.RunAsync("delete", key);
        Assert.True(again.ExitCode == ExitCodes.Success, again.Description);
    }

    [Fact]
    public async Task KeysPrintsOnePageAndFollowsEveryCursorWithAll()
    {
        var prefix = MemoryNodeFixture.UniquePrefix("keys");
        var keys = Enumerable.Range(0, 5).Select(i => $"{prefix}k{i}").ToArray();
        foreach (var key in keys)
        {
            await node.Client.PutAsync(key, "v");
        }

        var page = await node.RunAsync("keys", "--prefix", prefix, "--limit", "2");
        Assert.True(page.ExitCode == ExitCodes.Success, page.Description);
        var firstPage = Lines(page.StandardOutput);
        Assert.Equal(2, firstPage.Length);
        Assert.All(firstPage, key => Assert.Contains(key, keys));
        Assert.Contains("--cursor", page.StandardError, StringComparison.Ordinal);

        var all = await node.RunAsync("keys", "--prefix", prefix, "--limit", "2", "--all");
        Assert.True(all.ExitCode == ExitCodes.Success, all.Description);
        Assert.Equal(keys.Order(StringComparer.Ordinal), Lines(all.StandardOutput).Order(StringComparer.Ordinal));
        Assert.Equal(firstPage, Lines(all.StandardOutput)[..2]);
    }

    [Fact]
    public async Task KeysWithAPrefixThatMatchesNothingPrintsNothing()
    {
        var keys = await node.RunAsync("keys", "--prefix", MemoryNodeFixture.UniquePrefix("no-keys"));

        Assert.True(keys.ExitCode == ExitCodes.Success, keys.Description);
        Assert.Empty(keys.StandardOutputBytes);
    }

    [Fact]
    public async Task PutWithTtlMakesTheKeyExpire()
    {
        var key = MemoryNodeFixture.UniquePrefix("ttl") + "k";

        var put = await node.RunAsync("put", key, "short-lived", "--ttl", "1");
        Assert.True(put.ExitCode == ExitCodes.Success, put.Description);

        CommandResult? last = null;
        await Eventually.WaitUntilAsync(
            async () => (last = await node.RunAsync("get", key)).ExitCode == ExitCodes.NotFound,
            TimeSpan.FromSeconds(30),
            () => $"Expected 'get {key}' to exit {ExitCodes.NotFound} after its 1 s TTL on {node.Url}; last run: {last}");
    }

    [Fact]
    public async Task UrlComesFromRingKvUrlWhenNoOptionIsGiven()
    {
        var key = MemoryNodeFixture.UniquePrefix("env") + "k";
        var options = new RingKvProcessOptions { Environment = new Dictionary<string, string?> { ["RINGKV_URL"] = node.Url.ToString() } };

        var put = await RingKvProcess.RunAsync(["put", key, "from-env"], Deadlines.Command, options);
        Assert.True(put.ExitCode == ExitCodes.Success, put.Description);

        Assert.Equal("from-env"u8.ToArray(), (await node.Client.GetAsync(key))?.Value);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
