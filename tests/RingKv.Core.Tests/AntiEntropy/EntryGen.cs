using CsCheck;
using RingKv.Core.AntiEntropy;
using RingKv.Core.Hashing;
using RingKv.Core.Ring;
using RingKv.Core.Tests.Ring;
using RingKv.Core.Versioning;

namespace RingKv.Core.Tests.AntiEntropy;

/// <summary>An entry as a replica stores it, reduced to what the digest covers.</summary>
internal sealed record TestEntry(byte[] Key, EntryVersion Version, bool Deleted, byte[] Value)
{
    public ulong Hash => RangeDigest.EntryHash(Key, Version, Deleted, Value);

    public ulong Token => KeyToken.Of(Key);

    public override string ToString() => $"{Convert.ToHexString(Key)}@{Version}{(Deleted ? " deleted" : "")} ({Value.Length} B)";
}

internal static class EntryGen
{
    public static readonly Gen<EntryVersion> Version =
        Gen.Select(Gen.ULong, Gen.UInt[1, 16]).Select((timestamp, node) => new EntryVersion(timestamp, node));

    public static readonly Gen<TestEntry> Entry =
        Gen.Select(Gen.Byte.Array[1, 24], Version, Gen.Bool, Gen.Byte.Array[0, 40])
            .Select((key, version, deleted, value) => new TestEntry(key, version, deleted, deleted ? [] : value));

    /// <summary>Entries with distinct keys, as one replica holds them.</summary>
    public static readonly Gen<TestEntry[]> Replica =
        Entry.Array[0, 60].Select(entries => entries.DistinctBy(e => Convert.ToHexString(e.Key)).ToArray());

    /// <summary>
    /// Ranges of every shape (whole ring, wrapping, tiny, at the edges of the token space) with a depth
    /// that leaves no leaf empty.
    /// </summary>
    public static readonly Gen<(TokenRange Range, int Depth)> RangeAndDepth =
        from start in RingGen.Token
        from shape in Gen.Int[0, 3]
        from length in shape switch
        {
            0 => Gen.Const(0UL), // the whole ring
            1 => Gen.ULong[1, 4_096],
            _ => Gen.ULong[1, ulong.MaxValue],
        }
        let range = new TokenRange(start, unchecked(start + length))
        from depth in Gen.Int[0, Math.Min(10, (int)UInt128.Log2(range.Size))]
        select (range, depth);

    /// <summary>A token inside a range: anywhere, or at or next to its edges.</summary>
    public static Gen<ulong> TokenIn(TokenRange range) =>
        Gen.Frequency(
            (3, Gen.ULong.Select(x => unchecked(range.Start + 1 + (ulong)((UInt128)x % range.Size)))),
            (1, Gen.ULong[0, 2].Select(d => unchecked(range.Start + 1 + d))),
            (1, Gen.ULong[0, 2].Select(d => unchecked(range.End - d))))
        .Where(range.Contains);
}
