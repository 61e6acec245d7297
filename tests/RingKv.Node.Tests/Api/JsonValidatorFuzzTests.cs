using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;
using RingKv.Node.Api;

namespace RingKv.Node.Tests.Api;

/// <summary>
/// The JSON value validator on random, generated and mutated bodies: it answers true or false
/// (never throws, never hangs), and agrees with System.Text.Json's own parser at the same depth.
/// </summary>
public sealed class JsonValidatorFuzzTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static readonly Gen<JsonNode?> Json = Gen.Recursive<JsonNode?>((depth, inner) => depth >= 6
        ? Scalar
        : Gen.Frequency(
            (3, Scalar),
            (1, inner.Array[0, 4].Select(items => (JsonNode?)new JsonArray([.. items]))),
            (1, Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 0, 8], inner).Array[0, 4].Select(pairs =>
            {
                var obj = new JsonObject();
                foreach (var (name, value) in pairs)
                {
                    obj[name] = value;
                }
                return (JsonNode?)obj;
            }))));

    private static Gen<JsonNode?> Scalar => Gen.OneOf(
        Gen.Const((JsonNode?)null),
        Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.Double.Where(double.IsFinite).Select(d => (JsonNode?)JsonValue.Create(d)),
        Gen.String.Select(s => (JsonNode?)JsonValue.Create(s)));

    [Fact]
    public async Task EveryGeneratedDocumentIsValid()
    {
        await Task.Run(() => Json.Sample(node =>
        {
            var body = Encoding.UTF8.GetBytes(node?.ToJsonString() ?? "null");
            Assert.True(JsonValidator.TryValidate(body, out var error), error);
        }, iter: 3_000)).WaitAsync(Deadline);
    }

    [Fact]
    public async Task RandomBytesAreJudgedAsTheJsonParserJudgesThem()
    {
        var bytes = Gen.Frequency(
            (2, Gen.Byte),
            (3, Gen.OneOfConst("{}[]\":,0123456789.eE+- \t\r\ntrue false null \\u00".Select(c => (byte)c).ToArray())));
        await Task.Run(() => bytes.Array[0, 200].Sample(AgreesWithTheParser, iter: 20_000)).WaitAsync(Deadline);
    }

    [Fact]
    public async Task MutatedDocumentsAreJudgedAsTheJsonParserJudgesThem()
    {
        var mutated = Gen.Select(Json, Gen.Int[0, 10_000], Gen.Byte, Gen.Int[0, 2]).Select((node, at, b, kind) =>
        {
            var body = Encoding.UTF8.GetBytes(node?.ToJsonString() ?? "null");
            var i = at % body.Length;
            return kind switch
            {
                0 => body[..i],
                1 => [.. body[..i], b, .. body[i..]],
                _ => [.. body[..i], b, .. body[(i + 1)..]],
            };
        });
        await Task.Run(() => mutated.Sample(AgreesWithTheParser, iter: 5_000)).WaitAsync(Deadline);
    }

    [Fact]
    public void NestingBeyondTheLimitIsRefusedCheaply()
    {
        var deep = Encoding.ASCII.GetBytes(new string('[', 1_000_000));
        Assert.False(JsonValidator.TryValidate(deep, out _));
        var limit = Encoding.ASCII.GetBytes(new string('[', JsonValidator.MaxDepth) + new string(']', JsonValidator.MaxDepth));
        Assert.True(JsonValidator.TryValidate(limit, out var error), error);
    }

    [Fact]
    public async Task ContentTypeCheckTakesAnyString()
    {
        await Task.Run(() => Gen.String.Sample(contentType =>
        {
            var json = JsonValidator.IsJsonContentType(contentType);
            Assert.Equal(json, JsonValidator.IsJsonContentType(contentType.ToUpperInvariant()));
        }, iter: 20_000)).WaitAsync(Deadline);
    }

    private static void AgreesWithTheParser(byte[] body)
    {
        var valid = JsonValidator.TryValidate(body, out var error);
        bool parses;
        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = JsonValidator.MaxDepth });
            parses = true;
        }
        catch (JsonException)
        {
            parses = false;
        }
        Assert.True(valid == parses, $"validator says {valid} ({error}), parser says {parses}: {Convert.ToHexString(body)}");
    }
}
