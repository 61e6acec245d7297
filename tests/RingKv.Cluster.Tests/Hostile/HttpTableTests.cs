using System.Net;
using System.Text;
using RingKv.Testing;

namespace RingKv.Cluster.Tests.Hostile;

/// <summary>
/// Runs the whole bad-input table (<see cref="HttpCases"/>) against a running cluster over raw
/// sockets: every request gets its 4xx, never a 5xx, and leaves every process alive, the data as
/// it was, and the cluster serving a normal write and read within a second.
/// </summary>
[Collection(HostileCollection.Name)]
public sealed class HttpTableTests(HostileCluster cluster)
{
    public static TheoryData<string> Cases => HttpCases.Names();

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task HostileRequestGetsIts4xxAndChangesNothing(string name)
    {
        var hostile = HttpCases.Find(name);
        var url = hostile.On == Listener.Node ? cluster.NodeUrl : cluster.CoordinatorUrl;
        var exchange = await RawHttp.ExchangeAsync(url, hostile.Request(cluster), hostile.HalfClose, TimeSpan.FromSeconds(15));
        var seen = exchange.Text.Length > 600 ? exchange.Text[..600] + "..." : exchange.Text;
        if (hostile.HalfClose && exchange.Statuses.Count == 0)
        {
            // A client that half-closes has, to Kestrel, gone away: the request is aborted without
            // an answer. Closing the connection is the clean end here; nothing may have been stored.
            Assert.True(exchange.ClosedByServer, $"{hostile}: the connection was left open");
            await cluster.AssertUnharmedAsync(hostile.ToString(), hostile.Absent);
            await cluster.AssertOnlyTrackedKeysAsync(hostile.ToString());
            return;
        }
        Assert.True(exchange.Statuses.Count > 0, $"{hostile}: no HTTP response (closed: {exchange.ClosedByServer}): {seen}");
        Assert.True(exchange.Statuses[0] == hostile.Expected, $"{hostile}: expected {hostile.Expected}, got {exchange.Statuses[0]}: {seen}");
        Assert.DoesNotContain(exchange.Statuses, status => status >= 500);
        if (exchange.Statuses[0] != 431 && exchange.Statuses[0] != 414 && exchange.Text.Contains("Content-Type", StringComparison.OrdinalIgnoreCase))
        {
            // Kestrel refuses some requests before any RingKV code runs, with an empty body; every body RingKV writes is a problem.
            Assert.Contains("application/problem+json", exchange.Text, StringComparison.OrdinalIgnoreCase);
        }
        await cluster.AssertUnharmedAsync(hostile.ToString(), hostile.Absent);
        await cluster.AssertOnlyTrackedKeysAsync(hostile.ToString());
    }

    /// <summary>
    /// A Content-Length shorter than what follows: the server takes exactly Content-Length bytes as
    /// the body and reads the rest as the next request, which it refuses; nothing of the rest is
    /// stored (no request smuggling through a key's value).
    /// </summary>
    [Theory]
    [InlineData(Listener.Node)]
    [InlineData(Listener.Gateway)]
    public async Task ContentLengthShorterThanTheBodyStoresOnlyWhatItCounts(Listener on)
    {
        var key = $"hostile/short-length-{on}".ToLowerInvariant();
        cluster.Track(key);
        var url = on == Listener.Node ? cluster.NodeUrl : cluster.CoordinatorUrl;
        var head = cluster.Head("PUT", "/v1/kv/" + key, headers: "Content-Length: 5\r\n", close: false);
        var exchange = await RawHttp.ExchangeAsync(url, Encoding.Latin1.GetBytes(head + "firstGET /smuggled HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n"), halfClose: false, TimeSpan.FromSeconds(15));
        Assert.True(exchange.Statuses.SequenceEqual([204, 400]), $"{on}: statuses {string.Join(", ", exchange.Statuses)}: {exchange.Text}");
        Assert.Equal((HttpStatusCode.OK, "first"), await cluster.GetAsync(url, key));
        await cluster.AssertUnharmedAsync($"{on}: short Content-Length");
    }

    /// <summary>Keys are opaque: NFC and NFD spellings of "café" are two keys, each stored and returned exactly.</summary>
    [Theory]
    [InlineData(Listener.Node)]
    [InlineData(Listener.Gateway)]
    public async Task NfcAndNfdSpellingsAreDifferentKeys(Listener on)
    {
        var url = on == Listener.Node ? cluster.NodeUrl : cluster.CoordinatorUrl;
        var stem = $"hostile/unicode-{on}/caf".ToLowerInvariant();
        var nfc = stem + "\u00e9";
        var nfd = stem + "e\u0301";
        Assert.NotEqual(nfc, nfd);
        foreach (var (key, value) in new[] { (nfc, "composed"), (nfd, "decomposed") })
        {
            cluster.Track(key);
            using var put = await cluster.Http.PutAsync(new Uri(url, "/v1/kv/" + Uri.EscapeDataString(key)), new StringContent(value));
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }
        Assert.Equal((HttpStatusCode.OK, "composed"), await cluster.GetAsync(url, Uri.EscapeDataString(nfc)));
        Assert.Equal((HttpStatusCode.OK, "decomposed"), await cluster.GetAsync(url, Uri.EscapeDataString(nfd)));
        var listed = await cluster.Http.GetStringAsync(new Uri(url, "/v1/kv?prefix=" + Uri.EscapeDataString(stem)));
        var keys = System.Text.Json.JsonDocument.Parse(listed).RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString()).ToList();
        Assert.Equal(2, keys.Count);
        Assert.Contains(nfc, keys);
        Assert.Contains(nfd, keys);
        await cluster.AssertUnharmedAsync($"{on}: NFC/NFD keys");
    }
}
