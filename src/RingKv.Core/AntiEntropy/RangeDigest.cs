using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.Text;
using RingKv.Core.Versioning;

namespace RingKv.Core.AntiEntropy;

/// <summary>
/// An order-independent digest of a set of entries: the wrapping sum of a 64-bit hash per entry, and
/// the number of entries. Two replicas that hold the same entries of a range have the same digest
/// whatever order they stored or scan them in, so a transfer is verified end to end by comparing the
/// source's and the destination's digests of the range, and <see cref="MerkleTree"/> nodes
/// are digests of their subranges.
/// </summary>
/// <remarks>
/// <para>
/// A sum rather than XOR: with XOR an entry present twice cancels out, and a sum can be updated both
/// ways, so a replaced version is <see cref="Remove"/>d and the new one added without rescanning. Sets
/// that differ collide with probability about 2^-64 per comparison, as the entry hashes are
/// independent and uniform; <see cref="Count"/> also tells an operator how far apart two ranges are.
/// </para>
/// <para>
/// An entry is its key, its version (HLC timestamp and writer), whether it is a tombstone, and the
/// XxHash64 of its value: two replicas with the same version of a key but different bytes (a torn or
/// corrupted copy) differ. The entry hash is XxHash3, whose output is already fully avalanched, so it
/// needs no further mixing before it is summed. Nodes of different releases compare digests during a
/// rolling upgrade: never change the layout or the seed.
/// </para>
/// </remarks>
public readonly record struct RangeDigest(ulong Hash, long Count)
{
    // Fixed seed: every node must hash alike. Fixed-size fields first, key last, so two different
    // entries can never serialize to the same bytes.
    private const ulong Seed = 0x52696E674B564145; // "RingKVAE"
    private const int FixedBytes = 8 + 4 + 1 + 8;
    private const int StackLimit = 1024;

    public static RangeDigest Empty => default;

    public bool IsEmpty => Count == 0 && Hash == 0;

    /// <summary>The hash of an entry's value as the digest uses it: XxHash64, seed 0.</summary>
    public static ulong ValueHash(ReadOnlySpan<byte> value) => XxHash64.HashToUInt64(value);

    /// <summary>The 64-bit hash of one entry; the digest of a set is the sum of these.</summary>
    public static ulong EntryHash(ReadOnlySpan<byte> utf8Key, EntryVersion version, bool deleted, ulong valueHash)
    {
        var length = FixedBytes + utf8Key.Length;
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buffer, version.Timestamp);
            BinaryPrimitives.WriteUInt32LittleEndian(buffer[8..], version.NodeId);
            buffer[12] = deleted ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteUInt64LittleEndian(buffer[13..], valueHash);
            utf8Key.CopyTo(buffer[FixedBytes..]);
            return XxHash3.HashToUInt64(buffer, unchecked((long)Seed));
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The hash of an entry from its value bytes (empty for a tombstone).</summary>
    public static ulong EntryHash(ReadOnlySpan<byte> utf8Key, EntryVersion version, bool deleted, ReadOnlySpan<byte> value) =>
        EntryHash(utf8Key, version, deleted, ValueHash(value));

    public static ulong EntryHash(string key, EntryVersion version, bool deleted, ReadOnlySpan<byte> value)
    {
        ArgumentNullException.ThrowIfNull(key);
        return EntryHash(Encoding.UTF8.GetBytes(key), version, deleted, value);
    }

    /// <summary>The digest with one more entry.</summary>
    public RangeDigest Add(ulong entryHash) => new(unchecked(Hash + entryHash), Count + 1);

    /// <summary>The digest without an entry it contains (an older version being replaced, a purged tombstone).</summary>
    public RangeDigest Remove(ulong entryHash) => new(unchecked(Hash - entryHash), Count - 1);

    /// <summary>The digest after an entry was overwritten by a newer version of the same key.</summary>
    public RangeDigest Replace(ulong oldEntryHash, ulong newEntryHash) => new(unchecked(Hash - oldEntryHash + newEntryHash), Count);

    /// <summary>The digest of the union of two disjoint sets, such as two adjacent subranges.</summary>
    public RangeDigest Merge(RangeDigest other) => new(unchecked(Hash + other.Hash), Count + other.Count);

    /// <summary>The digest of this set without a subset of it.</summary>
    public RangeDigest Subtract(RangeDigest subset) => new(unchecked(Hash - subset.Hash), Count - subset.Count);

    public override string ToString() =>
        Hash.ToString("x16", CultureInfo.InvariantCulture) + "/" + Count.ToString(CultureInfo.InvariantCulture);
}
