using System.Text;
using CsCheck;
using RingKv.Core.AntiEntropy;
using RingKv.Core.Versioning;

namespace RingKv.Core.Tests.AntiEntropy;

public sealed class RangeDigestTests
{
    private static RangeDigest DigestOf(IEnumerable<TestEntry> entries) =>
        entries.Aggregate(RangeDigest.Empty, (digest, e) => digest.Add(e.Hash));

    [Fact]
    public void SameEntriesInAnyOrderGiveTheSameDigest()
    {
        var gen = from entries in EntryGen.Replica
                  from shuffled in Gen.Shuffle((TestEntry[])entries.Clone())
                  select (entries, shuffled);
        gen.Sample((entries, shuffled) => Assert.Equal(DigestOf(entries), DigestOf(shuffled)));
    }

    [Fact]
    public void RemovingAnEntryUndoesAddingItWhateverCameBetween()
    {
        Gen.Select(EntryGen.Replica, EntryGen.Entry).Sample((entries, extra) =>
        {
            var digest = DigestOf(entries);
            var withExtra = digest.Add(extra.Hash);
            Assert.NotEqual(digest, withExtra);
            Assert.Equal(entries.Length + 1, withExtra.Count);
            Assert.Equal(digest, entries.Aggregate(RangeDigest.Empty.Add(extra.Hash), (d, e) => d.Add(e.Hash)).Remove(extra.Hash));
        });
    }

    [Fact]
    public void ReplacingAVersionGivesTheDigestOfTheNewSet()
    {
        var gen = from entries in EntryGen.Replica.Where(e => e.Length > 0)
                  from index in Gen.Int[0, entries.Length - 1]
                  from version in EntryGen.Version
                  from deleted in Gen.Bool
                  select (entries, index, version, deleted);
        gen.Sample((entries, index, version, deleted) =>
        {
            var old = entries[index];
            var replacement = old with { Version = version, Deleted = deleted, Value = deleted ? [] : old.Value };
            var updated = entries.Select((e, i) => i == index ? replacement : e).ToArray();
            Assert.Equal(DigestOf(updated), DigestOf(entries).Replace(old.Hash, replacement.Hash));
            Assert.Equal(DigestOf(updated), DigestOf(entries).Remove(old.Hash).Add(replacement.Hash));
        });
    }

    [Fact]
    public void DigestsOfDisjointSetsMergeIntoTheDigestOfTheirUnion()
    {
        Gen.Select(EntryGen.Replica, Gen.Int[0, 60]).Sample((entries, cut) =>
        {
            cut = Math.Min(cut, entries.Length);
            var left = DigestOf(entries[..cut]);
            var right = DigestOf(entries[cut..]);
            Assert.Equal(DigestOf(entries), left.Merge(right));
            Assert.Equal(right, DigestOf(entries).Subtract(left));
        });
    }

    [Fact]
    public void ChangingAnyFieldOfAnEntryChangesItsHash()
    {
        EntryGen.Entry.Sample(entry =>
        {
            var hashes = new[]
            {
                entry.Hash,
                (entry with { Key = [.. entry.Key, 0] }).Hash,
                (entry with { Key = entry.Key.Select((b, i) => i == 0 ? (byte)(b ^ 1) : b).ToArray() }).Hash,
                (entry with { Version = entry.Version with { Timestamp = entry.Version.Timestamp ^ 1 } }).Hash,
                (entry with { Version = entry.Version with { NodeId = entry.Version.NodeId ^ 1 } }).Hash,
                (entry with { Deleted = !entry.Deleted }).Hash,
                (entry with { Value = [.. entry.Value, 0] }).Hash,
            };
            Assert.Equal(hashes.Length, hashes.Distinct().Count());
        });
    }

    [Fact]
    public void ReplicaMissingOneEntryOrHoldingAnotherVersionHasADifferentDigest()
    {
        var gen = from entries in EntryGen.Replica.Where(e => e.Length > 0)
                  from index in Gen.Int[0, entries.Length - 1]
                  from newer in Gen.ULong[1, 1_000]
                  select (entries, index, newer);
        gen.Sample((entries, index, newer) =>
        {
            var full = DigestOf(entries);
            Assert.NotEqual(full, DigestOf(entries.Where((_, i) => i != index)));
            var stale = entries[index] with { Version = entries[index].Version with { Timestamp = unchecked(entries[index].Version.Timestamp + newer) } };
            Assert.NotEqual(full, DigestOf(entries.Select((e, i) => i == index ? stale : e)));
        });
    }

    [Fact]
    public void AnEntryCountedTwiceIsNotTheSameAsOnce()
    {
        var entry = new TestEntry("k"u8.ToArray(), new EntryVersion(1, 1), false, "v"u8.ToArray());
        Assert.NotEqual(RangeDigest.Empty.Add(entry.Hash), RangeDigest.Empty.Add(entry.Hash).Add(entry.Hash));
        Assert.NotEqual(RangeDigest.Empty, RangeDigest.Empty.Add(entry.Hash).Add(entry.Hash));
    }

    [Fact]
    public void LongKeysAreHashedWhole()
    {
        var key = Enumerable.Repeat((byte)'k', 5_000).ToArray();
        var version = new EntryVersion(42, 7);
        var whole = RangeDigest.EntryHash(key, version, false, "v"u8);
        Assert.Equal(whole, RangeDigest.EntryHash(key, version, false, "v"u8));
        Assert.NotEqual(whole, RangeDigest.EntryHash(key.AsSpan(0, 4_999), version, false, "v"u8));
        Assert.Equal(whole, RangeDigest.EntryHash(Encoding.UTF8.GetString(key), version, false, "v"u8));
    }

    [Fact]
    public void EntryHashIsStableAcrossReleases()
    {
        // Nodes of different releases compare digests during a rolling upgrade: if this value changes,
        // the layout or seed changed and every mixed-version comparison would report a difference.
        var hash = RangeDigest.EntryHash("user:42"u8, new EntryVersion(0x0197_5a2b_3c4d_0001, 3), false, RangeDigest.ValueHash("hello"u8));
        Assert.Equal(PinnedEntryHash, hash);
    }

    private const ulong PinnedEntryHash = 0x1777C880CA4C3BE9;
}
