using System.Text;
using CsCheck;
using Google.Protobuf;
using RingKv.Core.Hashing;
using RingKv.Core.Keys;
using RingKv.Core.Versioning;
using RingKv.Node.Internode.Grpc;
using RingKv.Node.Internode.Protocol;
using RingKv.Storage;

namespace RingKv.Node.Tests.Internode;

/// <summary>
/// The internode decoder on random and mutated bytes: a message either parses or fails with
/// <see cref="InvalidProtocolBufferException"/>; converting what parsed gives a valid entry or null,
/// never an exception and never an entry a client could not have written; entries round-trip.
/// </summary>
public sealed class EntryMessagesFuzzTests
{
    private const int MaxKeyBytes = 1024;
    private const int MaxValueBytes = 4096;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly Gen<StoredEntry> Entries =
        Gen.Select(Gen.Char['a', 'z'].Array[1, 30], Gen.Byte.Array[0, 100], Gen.OneOfConst("application/octet-stream", "text/plain", "application/json"),
                Gen.ULong, Gen.UInt, Gen.Bool, Gen.Long[0, long.MaxValue])
            .Select((key, value, contentType, timestamp, writer, deleted, expires) =>
            {
                var text = new string(key);
                return new StoredEntry(text, KeyToken.Of(text), value, contentType, new EntryVersion(timestamp, writer), deleted, expires);
            });

    [Fact]
    public async Task EveryEntryRoundTripsThroughTheWire()
    {
        await Task.Run(() => Entries.Sample(entry =>
        {
            var wire = new WriteRequest { Entries = { entry.ToMessage() } }.ToByteArray();
            var back = WriteRequest.Parser.ParseFrom(wire).Entries.Single().ToEntry(MaxKeyBytes, MaxValueBytes);
            Assert.NotNull(back);
            Assert.Equal(entry.Value, back.Value);
            Assert.Equal(entry with { Value = back.Value }, back);
        }, iter: 5_000)).WaitAsync(Deadline);
    }

    [Fact]
    public async Task RandomBytesParseOrFailAsProtobufAndConvertSafely()
    {
        await Task.Run(() => Gen.Byte.Array[0, 300].Sample(DecodeAndConvert, iter: 20_000)).WaitAsync(Deadline);
    }

    [Fact]
    public async Task MutatedMessagesParseOrFailAsProtobufAndConvertSafely()
    {
        // Valid messages with hostile keys and content types, then cut short, extended, or with one byte changed.
        var hostileEntry = Gen.Select(Entries, Gen.OneOfConst("../etc", "a\u0001b", "", "ok", new string('k', 1025)), Gen.OneOfConst("text/plain", "text/plain\r\nX-Injected: 1", "", new string('t', 300)))
            .Select((entry, key, contentType) => new Entry(entry.ToMessage()) { Key = key, ContentType = contentType });
        var mutated = Gen.Select(hostileEntry.Array[1, 4], Gen.Int[0, 10_000], Gen.Byte, Gen.Int[0, 3]).Select((entries, at, b, kind) =>
        {
            var wire = new WriteRequest { Header = new Header { Epoch = 3, Sender = "n1" }, Entries = { entries } }.ToByteArray();
            var i = at % wire.Length;
            return kind switch
            {
                0 => wire[..i],
                1 => [.. wire[..i], b, .. wire[i..]],
                2 => [.. wire[..i], b, .. wire[(i + 1)..]],
                _ => wire,
            };
        });
        await Task.Run(() => mutated.Sample(DecodeAndConvert, iter: 20_000)).WaitAsync(Deadline);
    }

    private static void DecodeAndConvert(byte[] wire)
    {
        foreach (var parse in new Func<byte[], IEnumerable<Entry>>[]
        {
            bytes => WriteRequest.Parser.ParseFrom(bytes).Entries,
            bytes => ReadReply.Parser.ParseFrom(bytes).Results.Where(r => r.Entry is not null).Select(r => r.Entry),
            bytes => RangeChunk.Parser.ParseFrom(bytes).Entries,
        })
        {
            IEnumerable<Entry> entries;
            try
            {
                entries = parse(wire).ToList();
            }
            catch (InvalidProtocolBufferException)
            {
                continue;
            }
            foreach (var message in entries)
            {
                if (message.ToEntry(MaxKeyBytes, MaxValueBytes) is not { } entry)
                {
                    continue;
                }
                // An entry that got through is one a client could have written.
                Assert.Equal(KeyError.None, KeyRules.Validate(entry.Key, MaxKeyBytes));
                Assert.InRange(entry.Value.Length, 0, MaxValueBytes);
                Assert.InRange(entry.ContentType.Length, 1, 255);
                Assert.DoesNotContain(entry.ContentType, char.IsControl);
                Assert.Equal(KeyToken.Of(entry.Key), entry.Token);
                Assert.True(Encoding.UTF8.GetByteCount(entry.Key) <= MaxKeyBytes);
            }
        }
    }
}
