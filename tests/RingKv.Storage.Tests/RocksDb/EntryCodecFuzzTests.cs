using CsCheck;
using RingKv.Core.Versioning;
using RingKv.Storage.RocksDb;

namespace RingKv.Storage.Tests.RocksDb;

/// <summary>
/// The on-disk value format under damage: random and mutated bytes either decode or throw
/// <see cref="InvalidDataException"/> (what the engine reports as a damaged data directory),
/// nothing else; every entry round-trips.
/// </summary>
public sealed class EntryCodecFuzzTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly Gen<StoredEntry> Entries =
        Gen.Select(Gen.Char['a', 'z'].Array[1, 30], Gen.Byte.Array[0, 200], Gen.OneOfConst("application/octet-stream", "text/plain", "application/json", "x/" + new string('t', 250)),
                Gen.ULong, Gen.UInt, Gen.Bool, Gen.Long)
            .Select((key, value, contentType, timestamp, writer, deleted, expires) =>
                new StoredEntry(new string(key), 42, value, contentType, new EntryVersion(timestamp, writer), deleted, expires));

    [Fact]
    public async Task EveryEntryRoundTrips()
    {
        await Task.Run(() => Entries.Sample(entry =>
        {
            var encoded = EntryCodec.EncodeValue(entry);
            var decoded = EntryCodec.DecodeValue(entry.Key, entry.Token, encoded);
            Assert.Equal(entry.Value, decoded.Value);
            Assert.Equal(entry with { Value = decoded.Value }, decoded);
            Assert.Equal(new EntryHeader(entry.Version, entry.Deleted, entry.ExpiresAtMs), EntryCodec.DecodeHeader(encoded));
        }, iter: 5_000)).WaitAsync(Deadline);
    }

    [Fact]
    public async Task RandomBytesDecodeOrThrowInvalidDataOnly()
    {
        var bytes = Gen.Frequency((1, Gen.Byte.Array[0, 64]), (1, Gen.Byte.Array[0, 64].Select(b => b.Length > 0 ? [1, .. b[1..]] : b)));
        await Task.Run(() => bytes.Sample(value =>
        {
            DecodeOrInvalidData(value);
        }, iter: 20_000)).WaitAsync(Deadline);
    }

    [Fact]
    public async Task DamagedValuesDecodeOrThrowInvalidDataOnly()
    {
        // A valid value, then cut short, extended, or with one byte changed: the damage a disk or a bug does.
        var damaged = Gen.Select(Entries, Gen.Int[0, 1000], Gen.Byte, Gen.Int[0, 2]).Select((entry, at, b, kind) =>
        {
            var value = EntryCodec.EncodeValue(entry);
            var i = at % value.Length;
            return kind switch
            {
                0 => value[..i],
                1 => [.. value, b],
                _ => [.. value[..i], b, .. value[(i + 1)..]],
            };
        });
        await Task.Run(() => damaged.Sample(DecodeOrInvalidData, iter: 20_000)).WaitAsync(Deadline);
    }

    private static void DecodeOrInvalidData(byte[] value)
    {
        try
        {
            var entry = EntryCodec.DecodeValue("k", 1, value);
            Assert.NotNull(entry.ContentType);
        }
        catch (InvalidDataException)
        {
            // The documented failure: a damaged or foreign value.
        }
        try
        {
            _ = EntryCodec.DecodeHeader(value);
        }
        catch (InvalidDataException)
        {
        }
    }
}
