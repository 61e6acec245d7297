using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace RingKv.Node.Security.Tls;

/// <summary>The certificate files a process is started with: its own certificate and key, and the cluster's authority.</summary>
public sealed record TlsFiles(string CertificateFile, string KeyFile, string AuthorityFile);

/// <summary>
/// The self-signed authority of <c>./ringkv up --tls</c>, kept in <c>&lt;data-dir&gt;/tls</c>: made
/// on first use, kept across restarts (clients keep trusting the same CA file), and a certificate
/// for the coordinator and the nodes it signs, issued again when missing, close to expiry or not
/// covering the bind address.
/// </summary>
public static class LocalAuthority
{
    public const string DirectoryName = "tls";
    public const string AuthorityCertificateName = "ca.crt";
    public const string AuthorityKeyName = "ca.key";
    public const string CertificateName = "node.crt";
    public const string KeyName = "node.key";

    /// <summary>How long the authority is valid. Local use: long enough never to be in the way.</summary>
    public static readonly TimeSpan AuthorityValidity = TimeSpan.FromDays(3650);

    /// <summary>How long a certificate is valid; it is issued again on start once less than <see cref="RenewBefore"/> remains.</summary>
    public static readonly TimeSpan CertificateValidity = TimeSpan.FromDays(365);

    public static readonly TimeSpan RenewBefore = TimeSpan.FromDays(30);

    /// <summary>Backdating, so a peer whose clock is a little behind does not see a certificate from the future.</summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>The authority file the CLI trusts by default: the one <c>./ringkv up --tls</c> makes in the default data directory.</summary>
    public static string DefaultAuthorityPath => Path.Combine("ringkv-data", DirectoryName, AuthorityCertificateName);

    /// <summary>Returns the files, creating the authority and the certificate as needed.</summary>
    /// <param name="bindAddress">The address the listeners bind to: the certificate names it besides loopback.</param>
    public static TlsFiles Ensure(string dataDirectory, IPAddress bindAddress, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var directory = Path.GetFullPath(Path.Combine(dataDirectory, DirectoryName));
        Directory.CreateDirectory(directory);
        var files = new TlsFiles(Path.Combine(directory, CertificateName), Path.Combine(directory, KeyName), Path.Combine(directory, AuthorityCertificateName));
        var authorityKey = Path.Combine(directory, AuthorityKeyName);
        var now = time.GetUtcNow();

        using var authority = File.Exists(files.AuthorityFile) && File.Exists(authorityKey)
            ? X509Certificate2.CreateFromPemFile(files.AuthorityFile, authorityKey)
            : CreateAuthority(files.AuthorityFile, authorityKey, now);
        var addresses = Addresses(bindAddress);
        if (!IsCurrent(files, authority, addresses, now))
        {
            using var certificate = CertificateIssuer.Issue(authority, "RingKV node", ["localhost"], addresses, now - ClockSkew, now + CertificateValidity);
            CertificateIssuer.WritePem(certificate, files.CertificateFile, files.KeyFile);
        }
        return files;
    }

    private static X509Certificate2 CreateAuthority(string certificateFile, string keyFile, DateTimeOffset now)
    {
        var authority = CertificateIssuer.CreateAuthority("RingKV local cluster authority", now - ClockSkew, now + AuthorityValidity);
        CertificateIssuer.WritePem(authority, certificateFile, keyFile);
        return authority;
    }

    private static List<IPAddress> Addresses(IPAddress bindAddress)
    {
        List<IPAddress> addresses = [IPAddress.Loopback, IPAddress.IPv6Loopback];
        if (!bindAddress.Equals(IPAddress.Any) && !bindAddress.Equals(IPAddress.IPv6Any) && !addresses.Contains(bindAddress))
        {
            addresses.Add(bindAddress);
        }
        return addresses;
    }

    /// <summary>An existing certificate is kept only if this authority signed it, it stays valid a while, and it names every address.</summary>
    private static bool IsCurrent(TlsFiles files, X509Certificate2 authority, List<IPAddress> addresses, DateTimeOffset now)
    {
        if (!File.Exists(files.CertificateFile) || !File.Exists(files.KeyFile))
        {
            return false;
        }
        using var certificate = X509Certificate2.CreateFromPemFile(files.CertificateFile, files.KeyFile);
        if (certificate.NotAfter.ToUniversalTime() < (now + RenewBefore).UtcDateTime)
        {
            return false;
        }
        var trust = new AuthorityTrust([authority]);
        if (trust.Check(certificate, AuthorityTrust.ServerAuthentication) is not null)
        {
            return false;
        }
        var named = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().SelectMany(e => e.EnumerateIPAddresses()).ToHashSet();
        return addresses.All(named.Contains);
    }
}
