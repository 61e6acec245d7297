using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace RingKv.Node.Security;

/// <summary>
/// The secret every member of a cluster shares: internode RPC, joins, heartbeats, map fetches and
/// transfers carry it, and a process without it can neither join nor replicate. Kept in a file of
/// mode 0600 (never on a command line, where other users could read it), compared in constant time.
/// </summary>
public sealed class ClusterSecret
{
    public const string HeaderName = "X-RingKV-Cluster-Secret";

    private readonly byte[] _secret;

    private ClusterSecret(string secret)
    {
        Value = secret;
        _secret = Encoding.UTF8.GetBytes(secret);
    }

    /// <summary>No secret configured: everything is accepted (the listeners are loopback-only then).</summary>
    public static ClusterSecret None { get; } = new(string.Empty);

    public bool IsConfigured => Value.Length > 0;

    public string Value { get; }

    public static ClusterSecret From(string? path) => path is null ? None : Load(path);

    public static ClusterSecret Load(string path)
    {
        var text = File.ReadAllText(path).Trim();
        if (text.Length < 32)
        {
            throw new InvalidDataException($"The cluster secret in {path} is too short (at least 32 characters). ./ringkv up generates one.");
        }
        return new ClusterSecret(text);
    }

    /// <summary>Reads the secret file, creating it with 256 random bits when it does not exist.</summary>
    public static ClusterSecret LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            SecretFile.Write(path, Encoding.UTF8.GetBytes(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) + "\n"));
        }
        return Load(path);
    }

    public bool Matches(HttpRequest request) =>
        !IsConfigured ||
        request.Headers.TryGetValue(HeaderName, out var presented) &&
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented.ToString()), _secret);

    /// <summary>An HTTP handler that adds the secret to every request it sends (gRPC channels and control-plane clients).</summary>
    public HttpMessageHandler Handler(HttpMessageHandler inner) => IsConfigured ? new SecretHeaderHandler(Value) { InnerHandler = inner } : inner;

    private sealed class SecretHeaderHandler(string secret) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation(HeaderName, secret);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
