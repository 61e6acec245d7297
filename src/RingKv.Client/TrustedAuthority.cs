using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RingKv.Client;

/// <summary>
/// Trust in one certificate authority (a cluster's own, e.g. the <c>ca.crt</c> that
/// <c>./ringkv up --tls</c> makes) instead of the system's roots: the server's certificate must
/// chain to it, allow server authentication, and name the host of the URL.
/// </summary>
public static class TrustedAuthority
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    /// <summary>
    /// An HTTP handler for a RingKV server: with <paramref name="caFile"/> (PEM), it trusts that
    /// authority only; without, the system's roots as usual.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(string? caFile = null)
    {
        var handler = new SocketsHttpHandler();
        if (caFile is not null)
        {
            handler.SslOptions = CreateSslOptions(caFile);
        }
        return handler;
    }

    /// <summary>Client TLS options that trust only the authority in <paramref name="caFile"/> (PEM).</summary>
    public static SslClientAuthenticationOptions CreateSslOptions(string caFile)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caFile);
        }
        catch (CryptographicException e)
        {
            throw new ArgumentException($"The CA file {caFile} holds no readable PEM certificate: {e.Message}", nameof(caFile), e);
        }
        if (roots.Count == 0)
        {
            throw new ArgumentException($"The CA file {caFile} holds no certificate (expected '-----BEGIN CERTIFICATE-----').", nameof(caFile));
        }
        return new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(roots, certificate, chain, errors),
        };
    }

    private static bool Validate(X509Certificate2Collection roots, X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        // The platform's name check against the URL's host must pass; its chain verdict (against
        // the system's roots) is replaced by one against this authority alone.
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        if (presented is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        }
        return chain.Build(certificate as X509Certificate2 ?? new X509Certificate2(certificate));
    }
}
