using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using RingKv.Core.Versioning;
using RingKv.Testing;

namespace RingKv.Node.Tests.Api;

/// <summary>
/// The node's side of backup and restore (docs/BACKUP.md) on a standalone node: the range dump
/// pages through entries with their versions, tombstones and expiry; restore keeps a newer
/// version, skips expired entries and refuses a bad line; both answer what the OpenAPI document declares.
/// </summary>
public sealed class BackupEndpointTests(MemoryNodeFixture fixture) : IClassFixture<MemoryNodeFixture>
{
    private const string WholeRing = "first=0000000000000000&last=ffffffffffffffff";
    private readonly HttpClient _http = fixture.Server.Client;

    [Fact]
    public async Task RangeDumpPagesThroughEveryEntryWithItsVersionTombstoneAndExpiry()
    {
        var contract = await OpenApiContract.FetchAsync(_http);
        var prefix = "dump-" + Guid.NewGuid().ToString("N") + "/";
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            using var put = await _http.PutAsync("/v1/kv/" + prefix + i + (i == 1 ? "?ttl=600" : ""), new StringContent("value " + i));
            versions[prefix + i] = put.Headers.ETag!.Tag.Trim('"');
        }
        using (var delete = await _http.DeleteAsync("/v1/kv/" + prefix + 2))
        {
            versions[prefix + 2] = delete.Headers.ETag!.Tag.Trim('"');
        }

        var found = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        string? cursor = null;
        var pages = 0;
        do
        {
            using var page = await _http.GetAsync("/v1/admin/backup/range?" + WholeRing + "&limit=2&backup=test-1" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Empty(await contract.MismatchesAsync("/v1/admin/backup/range", "get", page));
            using var document = JsonDocument.Parse(await page.Content.ReadAsStringAsync());
            foreach (var entry in document.RootElement.GetProperty("entries").EnumerateArray())
            {
                var key = entry.GetProperty("key").GetString()!;
                Assert.True(found.TryAdd(key, entry.Clone()), $"{key} was listed twice");
            }
            cursor = document.RootElement.GetProperty("cursor").GetString();
            pages++;
        }
        while (cursor is not null && pages < 10_000);

        var ours = found.Where(f => f.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(f => f.Key, f => f.Value);
        Assert.Equal(versions.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, version) in versions)
        {
            Assert.Equal(version, ours[key].GetProperty("version").GetString());
        }
        Assert.True(ours[prefix + 2].GetProperty("deleted").GetBoolean());
        Assert.Equal("value 0", Encoding.UTF8.GetString(ours[prefix + 0].GetProperty("value").GetBytesFromBase64()));
        Assert.InRange(ours[prefix + 1].GetProperty("expiresAtMs").GetInt64(), DateTimeOffset.UtcNow.AddSeconds(500).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddSeconds(601).ToUnixTimeMilliseconds());
        Assert.Equal(0, ours[prefix + 0].GetProperty("expiresAtMs").GetInt64());
    }

    [Fact]
    public async Task RestoreKeepsANewerVersionSkipsExpiredEntriesAndWritesTheRestWithTheirVersions()
    {
        var contract = await OpenApiContract.FetchAsync(_http);
        var prefix = "restore-" + Guid.NewGuid().ToString("N") + "/";
        using (var put = await _http.PutAsync("/v1/kv/" + prefix + "newer", new StringContent("written after the backup")))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var older = Version(now - 60_000);
        var restoredVersion = Version(now - 30_000);
        var expiresAt = now + 600_000;
        var body = Line(prefix + "newer", older, "from the backup", 0) +
                   Line(prefix + "restored", restoredVersion, "from the backup", expiresAt) +
                   Line(prefix + "expired", older, "gone", now - 1_000);

        using var restore = await PostAsync("/v1/admin/restore?restore=test-2", body);
        Assert.Equal(HttpStatusCode.OK, restore.StatusCode);
        Assert.Empty(await contract.MismatchesAsync("/v1/admin/restore", "post", restore));
        using (var outcome = JsonDocument.Parse(await restore.Content.ReadAsStringAsync()))
        {
            Assert.Equal(1, outcome.RootElement.GetProperty("applied").GetInt64());
            Assert.Equal(1, outcome.RootElement.GetProperty("superseded").GetInt64());
            Assert.Equal(1, outcome.RootElement.GetProperty("expired").GetInt64());
            Assert.Equal(0, outcome.RootElement.GetProperty("failed").GetInt64());
        }

        Assert.Equal("written after the backup", await _http.GetStringAsync("/v1/kv/" + prefix + "newer"));
        using (var restored = await _http.GetAsync("/v1/kv/" + prefix + "restored"))
        {
            Assert.Equal("from the backup", await restored.Content.ReadAsStringAsync());
            Assert.Equal("\"" + restoredVersion + "\"", restored.Headers.ETag!.Tag);
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(expiresAt).ToString("O", CultureInfo.InvariantCulture), restored.Headers.GetValues("X-RingKV-Expires-At").Single());
        }
        using (var expired = await _http.GetAsync("/v1/kv/" + prefix + "expired"))
        {
            Assert.Equal(HttpStatusCode.NotFound, expired.StatusCode);
        }
    }

    [Fact]
    public async Task ABatchWithABadLineIsRefusedWholeAndNamesTheLine()
    {
        var contract = await OpenApiContract.FetchAsync(_http);
        var key = "restore-bad-" + Guid.NewGuid().ToString("N");
        var body = Line(key, Version(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), "fine", 0) + "{\"key\":\"x\",\"version\":\"not a version\"}\n";

        using var restore = await PostAsync("/v1/admin/restore", body);

        Assert.Equal(HttpStatusCode.BadRequest, restore.StatusCode);
        Assert.Empty(await contract.MismatchesAsync("/v1/admin/restore", "post", restore));
        using var problem = JsonDocument.Parse(await restore.Content.ReadAsStringAsync());
        Assert.Equal("invalid-backup-entry", problem.RootElement.GetProperty("type").GetString());
        Assert.Contains("Line 2", problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var get = await _http.GetAsync("/v1/kv/" + key);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
    }

    [Theory]
    [InlineData("first=0000000000000001&last=0000000000000000")]
    [InlineData("first=00&last=ffffffffffffffff")]
    [InlineData("last=ffffffffffffffff")]
    public async Task RangeDumpRefusesASpanThatIsNotTwoOrderedTokens(string query)
    {
        var contract = await OpenApiContract.FetchAsync(_http);
        using var response = await _http.GetAsync("/v1/admin/backup/range?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Empty(await contract.MismatchesAsync("/v1/admin/backup/range", "get", response));
    }

    private static string Version(long wallMs) => new EntryVersion((ulong)wallMs << HybridLogicalClock.LogicalBits, 7).ToString();

    private static string Line(string key, string version, string value, long expiresAtMs) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["key"] = key,
            ["version"] = version,
            ["deleted"] = false,
            ["contentType"] = "text/plain",
            ["expiresAtMs"] = expiresAtMs,
            ["value"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(value)),
        }) + "\n";

    private Task<HttpResponseMessage> PostAsync(string path, string body) =>
        _http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/x-ndjson"));
}
