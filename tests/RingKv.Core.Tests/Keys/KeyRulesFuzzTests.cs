using System.Text;
using CsCheck;
using RingKv.Core.Keys;

namespace RingKv.Core.Tests.Keys;

/// <summary>
/// Random and mutated input for the key decoder: it returns a <see cref="KeyError"/> for anything,
/// never throws, never hangs, and whatever it accepts is a valid key that round-trips.
/// </summary>
public sealed class KeyRulesFuzzTests
{
    private const int Max = KeyRules.DefaultMaxKeyBytes;

    /// <summary>Generous for these inputs (a few hundred characters each); a hang fails instead of blocking the run.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>Characters a hostile request target is made of: the rules' own specials, hex digits, controls, surrogates, anything.</summary>
    private static readonly Gen<char> TargetChar = Gen.Frequency(
        (3, Gen.OneOfConst('%', '/', '\\', '.', '2', 'e', 'E', 'f', 'F', 'C', '5', '0', 'A')),
        (2, Gen.Char['\0', '\x7f']),
        (1, Gen.Char['\ud800', '\udfff']),
        (1, Gen.Char));

    [Fact]
    public async Task RandomTargetsDecodeToAValidKeyOrAnErrorAndNeverThrow()
    {
        await Task.Run(() => TargetChar.Array[0, 300].Select(chars => new string(chars)).Sample(raw =>
        {
            var error = KeyRules.TryDecode(raw, Max, out var key);
            if (error == KeyError.None)
            {
                Assert.Equal(KeyError.None, KeyRules.Validate(key, Max));
                Assert.InRange(Encoding.UTF8.GetByteCount(key), 1, Max);
            }
            else
            {
                Assert.Equal(string.Empty, key);
                Assert.True(Enum.IsDefined(error));
            }
        }, iter: 20_000)).WaitAsync(Deadline);
    }

    [Fact]
    public async Task RandomBytesValidateOrAreRefusedAndAcceptedOnesRoundTrip()
    {
        var bytes = Gen.Frequency(
            (3, Gen.Byte),
            (1, Gen.OneOfConst((byte)'%', (byte)'.', (byte)'/', (byte)'\\', (byte)0xC0, (byte)0xAF, (byte)0xED, (byte)0xA0)));
        await Task.Run(() => bytes.Array[0, 1100].Sample(utf8 =>
        {
            var error = KeyRules.Validate(utf8, Max, out var key);
            if (error == KeyError.None)
            {
                Assert.Equal(utf8, Encoding.UTF8.GetBytes(key));
                Assert.Equal(KeyError.None, KeyRules.Validate(key, Max));
            }
            else
            {
                Assert.Equal(string.Empty, key);
            }
        }, iter: 20_000)).WaitAsync(Deadline);
    }

    [Fact]
    public async Task MutatedEncodingsOfValidKeysNeverDecodeToADifferentValidKeyWithoutReason()
    {
        // A valid key, percent-encoded once, then one character replaced, inserted or removed.
        var key = Gen.Char['a', 'z'].Array[1, 40].Select(chars => new string(chars));
        var mutation = Gen.Select(key, Gen.Int[0, 1000], TargetChar, Gen.Int[0, 2]);
        await Task.Run(() => mutation.Sample((original, at, c, kind) =>
        {
            var encoded = string.Concat(Encoding.UTF8.GetBytes(original).Select(b => $"%{b:X2}"));
            var i = at % (encoded.Length + 1);
            var mutated = kind switch
            {
                0 when i < encoded.Length => encoded[..i] + c + encoded[(i + 1)..],
                1 => encoded[..i] + c + encoded[i..],
                _ when i < encoded.Length => encoded[..i] + encoded[(i + 1)..],
                _ => encoded,
            };
            var error = KeyRules.TryDecode(mutated, Max, out var decoded);
            if (error == KeyError.None)
            {
                // Whatever it decodes to, it is a key the rules accept, decoded exactly once.
                Assert.Equal(KeyError.None, KeyRules.Validate(decoded, Max));
                Assert.DoesNotContain('\0', decoded);
            }
        }, iter: 20_000)).WaitAsync(Deadline);
    }

    [Fact]
    public void DescribeHasAnAnswerForEveryError()
    {
        foreach (var error in Enum.GetValues<KeyError>())
        {
            Assert.False(string.IsNullOrWhiteSpace(KeyRules.Describe(error, Max)));
        }
    }
}
