using System.Buffers;
using System.Globalization;
using System.Text;
using RingKv.Cli.Backup;
using RingKv.Core.Hashing;
using RingKv.Core.Ring;
using RingKv.Core.Versioning;
using RingKv.Node.Backup;
using RingKv.Storage;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>The backup's pure parts (docs/BACKUP.md): the line format, how spans divide the ring, the newest-wins merge, and the verifier.</summary>
public sealed class BackupFormatTests
{
    private static StoredEntry Entry(string key, ulong timestamp, string value = "v", uint writer = 1, long expiresAtMs = 0) =>
        new(key, KeyToken.Of(key), Encoding.UTF8.GetBytes(value), "text/plain", new EntryVersion(timestamp, writer), Deleted: false, expiresAtMs);

    [Fact]
    public void ALineKeepsEveryFieldOfAnEntryTombstonesAndBinaryValuesIncluded()
    {
        var binary = new StoredEntry("users/\u00e9t\u00e9/1", KeyToken.Of("users/\u00e9t\u00e9/1"), [0, 255, 10, 13, 34], "application/octet-stream",
            new EntryVersion(0x01a2_0000_0000_0003, 42), Deleted: false, ExpiresAtMs: 1_900_000_000_123);
        var tombstone = StoredEntry.Tombstone("gone", KeyToken.Of("gone"), new EntryVersion(99, 2));
        foreach (var entry in new[] { binary, tombstone })
        {
            var buffer = new ArrayBufferWriter<byte>();
            BackupLine.Write(buffer, entry);
            var line = buffer.WrittenSpan;
            Assert.Equal((byte)'\n', line[^1]);
            Assert.Equal(-1, line[..^1].IndexOf((byte)'\n'));
            Assert.True(BackupLine.TryRead(line[..^1], out var read, out var error), error);
            Assert.Equal(entry with { Value = [] }, read with { Value = [] });
            Assert.Equal(entry.Value, read.Value);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"key\":\"k\"}")]
    [InlineData("{\"key\":\"k\",\"version\":\"zz\",\"deleted\":false,\"contentType\":\"t\",\"expiresAtMs\":0,\"value\":\"\"}")]
    [InlineData("{\"key\":\"k\",\"version\":\"0000000000000001-00000001\",\"deleted\":false,\"contentType\":\"t\",\"expiresAtMs\":-1,\"value\":\"\"}")]
    [InlineData("{\"key\":\"k\",\"version\":\"0000000000000001-00000001\",\"deleted\":false,\"contentType\":\"t\",\"expiresAtMs\":0,\"value\":\"!!\"}")]
    [InlineData("{\"key\":\"k\",\"version\":\"0000000000000001-00000001\",\"deleted\":false,\"contentType\":\"t\",\"expiresAtMs\":0,\"value\":\"\",\"extra\":1}")]
    [InlineData("{\"key\":\"k\",\"version\":\"0000000000000001-00000001\",\"deleted\":false,\"contentType\":\"t\",\"expiresAtMs\":0,\"value\":\"\"} {}")]
    public void ALineThatIsNotExactlyAnEntryIsRefusedWithAReason(string line)
    {
        Assert.False(BackupLine.TryRead(Encoding.UTF8.GetBytes(line), out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void SpansCoverTheWholeTokenSpaceOnceInOrder()
    {
        ulong next = 0;
        for (var i = 0; i < BackupPlan.DefaultSpanCount; i++)
        {
            var (first, last) = BackupPlan.Span(i, BackupPlan.DefaultSpanCount);
            Assert.Equal(next, first);
            Assert.True(last > first);
            next = last + 1;
        }
        Assert.Equal(ulong.MaxValue, BackupPlan.Span(BackupPlan.DefaultSpanCount - 1, BackupPlan.DefaultSpanCount).Last);
        Assert.Equal((0ul, ulong.MaxValue), BackupPlan.Span(0, 1));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(5, 3)]
    public void ASpansPartsCoverItExactlyOnceEachWithThePreferenceListOfItsTokensAndAreFoundByToken(int nodes, int replicationFactor)
    {
        var random = new Random(nodes * 31 + replicationFactor);
        var vnodes = new List<VirtualNode>();
        // A vnode at the very top of the token space and one at zero: the wrap-around range is split in two.
        vnodes.Add(new VirtualNode(ulong.MaxValue, "n1"));
        vnodes.Add(new VirtualNode(0, "n" + nodes));
        for (var n = 1; n <= nodes; n++)
        {
            for (var v = 0; v < 16; v++)
            {
                vnodes.Add(new VirtualNode((ulong)random.NextInt64(1, long.MaxValue) * 2, "n" + n));
            }
        }
        var ring = new ConsistentHashRing(vnodes.DistinctBy(v => v.Token));
        var ranges = ring.Ranges(replicationFactor);
        for (var i = 0; i < 8; i++)
        {
            var (first, last) = BackupPlan.Span(i, 8);
            var parts = BackupPlan.Parts(first, last, ranges);
            Assert.Equal(first, parts[0].First);
            Assert.Equal(last, parts[^1].Last);
            for (var p = 0; p < parts.Count; p++)
            {
                Assert.True(parts[p].First <= parts[p].Last);
                if (p > 0)
                {
                    Assert.Equal(parts[p - 1].Last + 1, parts[p].First);
                }
                Assert.Equal(ring.PreferenceList(parts[p].First, replicationFactor), parts[p].Replicas);
                Assert.Equal(ring.PreferenceList(parts[p].Last, replicationFactor), parts[p].Replicas);
                Assert.Same(parts[p], BackupPlan.PartOf(parts, parts[p].First));
                Assert.Same(parts[p], BackupPlan.PartOf(parts, parts[p].Last));
            }
        }
    }

    [Fact]
    public void TheMergeKeepsEachKeyOnceAtItsNewestVersionInTheEnginesOrder()
    {
        var keys = Enumerable.Range(0, 200).Select(i => "k" + i.ToString(CultureInfo.InvariantCulture)).ToList();
        var a = keys.Select(k => Entry(k, 10, "a")).ToList();
        var b = keys.Where((_, i) => i % 2 == 0).Select(k => Entry(k, 20, "b")).ToList();
        // Same timestamp, higher writer: the version is still newer (the writer breaks ties).
        var c = keys.Where((_, i) => i % 3 == 0).Select(k => Entry(k, 20, "c", writer: 9)).ToList();
        var deleted = StoredEntry.Tombstone("k5", KeyToken.Of("k5"), new EntryVersion(30, 1));
        var d = new List<StoredEntry> { deleted };
        var sources = new[] { a, b, c, d }.Select(s => (IReadOnlyList<StoredEntry>)Sorted(s)).ToList();

        var merged = NewestMerge.Merge(sources);

        Assert.Equal(keys.Count, merged.Count);
        Assert.Equal(Sorted(merged), merged);
        foreach (var (entry, index) in merged.Select(e => (e, int.Parse(e.Key[1..], CultureInfo.InvariantCulture))))
        {
            var expected = index == 5 ? "" : index % 3 == 0 ? "c" : index % 2 == 0 ? "b" : "a";
            Assert.Equal(expected, Encoding.UTF8.GetString(entry.Value));
        }
        Assert.True(merged.Single(e => e.Key == "k5").Deleted);
    }

    [Fact]
    public void VerifyFindsASoundBackupSoundAndNamesTheFileThatWasChanged()
    {
        using var directory = new TempDirectory("backup-verify");
        WriteBackup(directory.Path, 4, Enumerable.Range(0, 100).Select(i => Entry("key" + i.ToString(CultureInfo.InvariantCulture), 5)).ToList());
        var sound = BackupVerifier.Verify(directory.Path);
        Assert.True(sound.IsSound, string.Join("; ", sound.Problems));
        Assert.Equal(100, sound.Entries);

        var victim = sound.Manifest.Spans.First(s => s.Entries > 0).File;
        var bytes = File.ReadAllBytes(directory.Combine(victim));
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(directory.Combine(victim), bytes);

        var damaged = BackupVerifier.Verify(directory.Path);
        Assert.False(damaged.IsSound);
        Assert.Contains(damaged.Problems, p => p.Contains(victim, StringComparison.Ordinal) && p.Contains("SHA-256", StringComparison.Ordinal));
    }

    [Fact]
    public void VerifyReportsAMissingFileAnEntryOutsideItsRangeAndAnIncompleteBackup()
    {
        using var directory = new TempDirectory("backup-verify");
        var entries = Enumerable.Range(0, 50).Select(i => Entry("key" + i.ToString(CultureInfo.InvariantCulture), 5)).ToList();
        WriteBackup(directory.Path, 4, entries);
        var manifest = BackupManifest.Load(directory.Path)!;
        // A file whose digest matches but which holds another range's entries.
        var (first, _) = BackupPlan.Span(1, 4);
        var intruder = entries.First(e => e.Token < first);
        var span = manifest.Spans.Single(s => s.Index == 1);
        var buffer = new ArrayBufferWriter<byte>();
        BackupLine.Write(buffer, intruder);
        File.WriteAllBytes(Path.Combine(directory.Path, span.File), buffer.WrittenSpan.ToArray());
        span.Sha256 = BackupVerifier.Sha256Of(Path.Combine(directory.Path, span.File));
        File.Delete(Path.Combine(directory.Path, manifest.Spans.Single(s => s.Index == 2).File));
        manifest.Complete = false;
        manifest.Save(directory.Path);

        var report = BackupVerifier.Verify(directory.Path);

        Assert.Contains(report.Problems, p => p.Contains("not complete", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Contains("outside the range", StringComparison.Ordinal));
        Assert.Contains(report.Problems, p => p.Contains("missing", StringComparison.Ordinal));
    }

    private static List<StoredEntry> Sorted(IEnumerable<StoredEntry> entries) =>
        entries.OrderBy(e => e.Token).ThenBy(e => Encoding.UTF8.GetBytes(e.Key), Comparer<byte[]>.Create((x, y) => x.AsSpan().SequenceCompareTo(y))).ToList();

    /// <summary>A backup as <c>ringkv backup</c> lays it out, written directly.</summary>
    private static void WriteBackup(string directory, int spanCount, IReadOnlyList<StoredEntry> entries)
    {
        Directory.CreateDirectory(Path.Combine(directory, BackupRunner.SpansFolder));
        var manifest = new BackupManifest
        {
            BackupId = "test",
            Source = "http://127.0.0.1:1/",
            Epoch = 1,
            ReplicationFactor = 3,
            Nodes = 3,
            StartedAt = DateTimeOffset.UtcNow,
            ConsistentAt = DateTimeOffset.UtcNow,
            Guarantee = "test",
            SpanCount = spanCount,
            Complete = true,
        };
        for (var i = 0; i < spanCount; i++)
        {
            var (first, last) = BackupPlan.Span(i, spanCount);
            var mine = Sorted(entries.Where(e => e.Token >= first && e.Token <= last));
            var buffer = new ArrayBufferWriter<byte>();
            foreach (var entry in mine)
            {
                BackupLine.Write(buffer, entry);
            }
            var file = Path.Combine(BackupRunner.SpansFolder, i.ToString("D4", CultureInfo.InvariantCulture) + ".ndjson");
            File.WriteAllBytes(Path.Combine(directory, file), buffer.WrittenSpan.ToArray());
            manifest.Spans.Add(new BackupSpan
            {
                Index = i,
                First = first.ToString("x16", CultureInfo.InvariantCulture),
                Last = last.ToString("x16", CultureInfo.InvariantCulture),
                File = file,
                Entries = mine.Count,
                Tombstones = 0,
                Bytes = mine.Sum(e => e.Value.Length),
                Sha256 = BackupVerifier.Sha256Of(Path.Combine(directory, file)),
                MinReplicasRead = 3,
                FinishedAt = DateTimeOffset.UtcNow,
            });
        }
        manifest.Save(directory);
    }
}
