using RingKv.Client;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>
/// The RingKv.Client package's README shows code that compiles and runs: its "Use" example is the
/// body of <see cref="ReadmeExampleAsync"/>, word for word, run here against a real node.
/// </summary>
public sealed class ClientReadmeTests(MemoryNodeFixture fixture) : IClassFixture<MemoryNodeFixture>
{
    private const string RegionStart = "#region readme-use";
    private const string RegionEnd = "#endregion";

    [Fact]
    public async Task TheReadmeUsageExampleIsThisCompiledExampleAndItRuns()
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "src", "RingKv.Client", "README.md"));
        var useSection = readme[readme.IndexOf("## Use", StringComparison.Ordinal)..];
        var start = useSection.IndexOf("```csharp\n", StringComparison.Ordinal) + "```csharp\n".Length;
        var shown = useSection[start..useSection.IndexOf("```", start, StringComparison.Ordinal)];

        var source = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "tests", "RingKv.Cli.Tests", "ClientReadmeTests.cs"));
        var begin = source.IndexOf(RegionStart + "\n", source.IndexOf("static async Task ReadmeExampleAsync", StringComparison.Ordinal), StringComparison.Ordinal) + RegionStart.Length + 1;
        var compiled = source[begin..source.IndexOf("        " + RegionEnd, begin, StringComparison.Ordinal)];

        Assert.Equal(Unindent(shown), Unindent(compiled));

        using var client = new RingKvClient(fixture.Url);
        await ReadmeExampleAsync(client);
        Assert.Null(await client.GetAsync("users/42/name"));
        Assert.NotNull(await client.GetAsync("locks/job-7"));
    }

    private static string Unindent(string block)
    {
        var lines = block.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
        var indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

#pragma warning disable IDE0059, CA1303 // As in the README: a version kept for show, literal text on the console.
    private static async Task ReadmeExampleAsync(RingKvClient client)
    {
        #region readme-use
        // Store text (or bytes, with a content type): the result is the version stored, the key's ETag.
        var version = await client.PutAsync("users/42/name", "Ada");

        // Read it back: null means absent, deleted or expired.
        var entry = await client.GetAsync("users/42/name");
        Console.WriteLine($"{entry!.Key} = {System.Text.Encoding.UTF8.GetString(entry.Value)} ({entry.ContentType}, version {entry.Version})");

        // Compare-and-set: write only if nobody wrote since that read; otherwise the server answers 412.
        try
        {
            await client.PutAsync("users/42/name", "Ada Lovelace", ifMatch: entry.Version);
        }
        catch (RingKvException e) when (e.StatusCode == System.Net.HttpStatusCode.PreconditionFailed)
        {
            Console.WriteLine("Someone else wrote it first: " + e.Detail);
        }

        // Create-only, and a key that expires.
        await client.PutAsync("locks/job-7", "me", ttl: TimeSpan.FromMinutes(5), ifNoneMatch: true);

        // Every key under a prefix, following the server's cursors page by page.
        await foreach (var key in client.ListAllKeysAsync("users/"))
        {
            Console.WriteLine(key);
        }

        // Deletes are idempotent: no error when the key is already gone.
        await client.DeleteAsync("users/42/name");
        #endregion
    }
#pragma warning restore IDE0059, CA1303
}
