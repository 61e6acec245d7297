using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RingKv.Node.Security.Tls;

/// <summary>
/// Trust in one cluster's certificate authority and nothing else: a peer's certificate must chain
/// to a root in the CA file (custom root trust, the system's roots play no part), be within its
/// validity, and allow the purpose it is used for (server or client authentication). A private
/// authority publishes no revocation lists, so revocation is not checked: replace the authority
/// to retire a certificate.
/// </summary>
public sealed class AuthorityTrust
{
    /// <summary>The extended key usage a server certificate needs (RFC 5280 id-kp-serverAuth).</summary>
    public static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    /// <summary>The extended key usage a client certificate needs (RFC 5280 id-kp-clientAuth).</summary>
    public static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    private readonly X509Certificate2Collection _roots;

    public AuthorityTrust(X509Certificate2Collection roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        if (roots.Count == 0)
        {
            throw new ArgumentException("A certificate authority needs at least one root certificate.", nameof(roots));
        }
        _roots = roots;
    }

    /// <summary>Reads the authority's certificate(s) from a PEM file.</summary>
    public static AuthorityTrust Load(string caFile)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(caFile);
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"The CA file {caFile} holds no readable PEM certificate: {e.Message}", e);
        }
        if (roots.Count == 0)
        {
            throw new InvalidDataException($"The CA file {caFile} holds no certificate (expected '-----BEGIN CERTIFICATE-----').");
        }
        return new AuthorityTrust(roots);
    }

    /// <summary>Null when <paramref name="certificate"/> chains to this authority and allows <paramref name="purpose"/>; otherwise why not.</summary>
    public string? Check(X509Certificate2 certificate, Oid purpose, X509Certificate2Collection? intermediates = null, DateTime? at = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(purpose);
        // Only intermediates the peer sent: never the machine's certificate stores.
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (intermediates is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        }
        if (at is { } time)
        {
            chain.ChainPolicy.VerificationTime = time;
            chain.ChainPolicy.VerificationTimeIgnored = false;
        }
        if (chain.Build(certificate))
        {
            return null;
        }
        var reasons = chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct().ToList();
        return reasons.Count > 0 ? string.Join("; ", reasons) : "the certificate does not chain to the cluster's authority";
    }

    /// <summary>
    /// For outgoing connections (<see cref="RemoteCertificateValidationCallback"/>): the name check
    /// the platform made against the address we dialled must have passed; its chain verdict, made
    /// against the system's roots, is replaced by ours against the cluster's authority.
    /// </summary>
    public bool ValidateServer(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }
        var presented = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
        return Check(presented, ServerAuthentication, chain?.ChainPolicy.ExtraStore) is null;
    }

    /// <summary>For incoming connections that present a client certificate (mutual TLS).</summary>
    public bool ValidateClient(X509Certificate2? certificate, X509Chain? chain) =>
        certificate is not null && Check(certificate, ClientAuthentication, chain?.ChainPolicy.ExtraStore) is null;
}
