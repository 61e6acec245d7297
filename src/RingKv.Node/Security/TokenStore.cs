using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RingKv.Node.Security;

/// <summary>
/// Client tokens, kept only as SHA-256 hashes (a stolen auth file gives no token away), checked in
/// constant time. Tokens carry 256 bits of entropy, so a fast hash is the right one: there is
/// nothing to brute-force that a slow password hash would protect.
/// </summary>
public sealed class TokenStore
{
    private readonly IReadOnlyList<TokenRecord> _tokens;

    private TokenStore(IReadOnlyList<TokenRecord> tokens) => _tokens = tokens;

    public int Count => _tokens.Count;

    /// <summary>Reads an auth file: <c>{"tokens": [{"name", "role": "read|write|admin", "sha256": "hex"}]}</c>.</summary>
    public static TokenStore Load(string path)
    {
        var file = JsonSerializer.Deserialize(File.ReadAllBytes(path), SecurityJsonContext.Default.AuthFile)
            ?? throw new InvalidDataException($"{path} is empty.");
        foreach (var token in file.Tokens)
        {
            if (token.Sha256.Length != 64 || !token.Sha256.All(char.IsAsciiHexDigit))
            {
                throw new InvalidDataException($"Token '{token.Name}' in {path} has no valid sha256 (64 hex digits). Create tokens with ./ringkv token create.");
            }
        }
        return new TokenStore(file.Tokens);
    }

    /// <summary>A new token with 256 bits from the OS's cryptographic generator, and its record for the auth file.</summary>
    public static (string Token, TokenRecord Record) Create(string name, Role role)
    {
        var token = "rk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (token, new TokenRecord(name, role.ToString().ToLowerInvariant(), Hash(token)));
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static void Write(string path, IReadOnlyList<TokenRecord> tokens)
    {
        SecretFile.Write(path, JsonSerializer.SerializeToUtf8Bytes(new AuthFile(tokens), SecurityJsonContext.Default.AuthFile));
    }

    /// <summary>The role of a presented token, or null. Compares every stored hash in constant time.</summary>
    public Role? Authenticate(string presented) => Identify(presented)?.Role;

    /// <summary>The presented token's name and role, or null. Compares every stored hash in constant time.</summary>
    public TokenIdentity? Identify(string presented)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        TokenIdentity? found = null;
        foreach (var token in _tokens)
        {
            if (CryptographicOperations.FixedTimeEquals(hash, Convert.FromHexString(token.Sha256)) &&
                Enum.TryParse<Role>(token.Role, ignoreCase: true, out var role))
            {
                found = new TokenIdentity(token.Name, role, Fingerprint(presented));
            }
        }
        return found;
    }

    /// <summary>What logs may show of a token: the first 12 hex digits of its SHA-256. Enough to tell tokens apart, nothing to authenticate with.</summary>
    public static string Fingerprint(string presented) => Hash(presented)[..12];
}

public sealed record TokenRecord(string Name, string Role, string Sha256);

/// <summary>Reads an auth file's records as they are, to add one.</summary>
public static class TokenStoreFile
{
    public static IReadOnlyList<TokenRecord> Read(string path) =>
        JsonSerializer.Deserialize(File.ReadAllBytes(path), SecurityJsonContext.Default.AuthFile)?.Tokens ?? [];
}

public sealed record AuthFile(IReadOnlyList<TokenRecord> Tokens);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(AuthFile))]
internal sealed partial class SecurityJsonContext : JsonSerializerContext;
