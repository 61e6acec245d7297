using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace RingKv.Node.Security.Tls;

/// <summary>
/// TLS for one process: the certificate its listeners present (also its client certificate
/// towards peers), and the cluster's authority that every peer certificate must chain to. When
/// not configured (<see cref="None"/>), listeners speak plain HTTP and clients are left as they are.
/// </summary>
public sealed class ClusterTls
{
    private ClusterTls(X509Certificate2? certificate, AuthorityTrust? authority)
    {
        Certificate = certificate;
        Authority = authority;
    }

    public static ClusterTls None { get; } = new(null, null);

    public bool IsEnabled => Certificate is not null;

    public X509Certificate2? Certificate { get; }

    /// <summary>The cluster's authority; null for a standalone node that only serves TLS to clients.</summary>
    public AuthorityTrust? Authority { get; }

    public string Scheme => IsEnabled ? Uri.UriSchemeHttps : Uri.UriSchemeHttp;

    /// <summary>Loads the PEM files; all null gives <see cref="None"/>.</summary>
    public static ClusterTls Load(string? certificateFile, string? keyFile, string? authorityFile)
    {
        if (certificateFile is null && keyFile is null && authorityFile is null)
        {
            return None;
        }
        if (certificateFile is null || keyFile is null)
        {
            throw new ArgumentException("TLS needs both --tls-cert and --tls-key (PEM files; ./ringkv up --tls makes a set in <data-dir>/tls).");
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidDataException($"Cannot load the TLS certificate {certificateFile} with key {keyFile}: {e.Message}", e);
        }
        return new ClusterTls(certificate, authorityFile is null ? null : AuthorityTrust.Load(authorityFile));
    }

    /// <summary>
    /// Serves TLS on a listener. <paramref name="clientCertificates"/>: <c>RequireCertificate</c>
    /// for the internode port (only holders of a certificate from the cluster's authority get
    /// through the handshake), <c>AllowCertificate</c> where clients without one are welcome but
    /// members show theirs (the coordinator's control plane checks it per request).
    /// </summary>
    public void Listen(ListenOptions listen, ClientCertificateMode clientCertificates)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var certificate = Certificate ?? throw new InvalidOperationException("TLS is not configured.");
        var https = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = certificate,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateMode = clientCertificates,
            HandshakeTimeout = TimeSpan.FromSeconds(10),
        };
        if (clientCertificates == ClientCertificateMode.RequireCertificate)
        {
            var authority = RequireAuthority();
            https.ClientCertificateValidation = (presented, chain, _) => authority.ValidateClient(presented, chain);
        }
        else if (clientCertificates == ClientCertificateMode.AllowCertificate)
        {
            // Accepted at the handshake and judged per request (TrustsClient): a refusal is then an
            // answer the caller can read and a metric, rather than a connection that just drops.
            https.ClientCertificateValidation = (_, _, _) => true;
        }
        listen.UseHttps(https);
    }

    /// <summary>Whether a client certificate presented on a connection comes from the cluster's authority.</summary>
    public bool TrustsClient(X509Certificate2? presented) => presented is not null && RequireAuthority().ValidateClient(presented, null);

    /// <summary>
    /// Makes <paramref name="handler"/> trust the cluster's authority (and only it) for https URLs,
    /// presenting this process's certificate when the server asks for one. Unchanged without TLS.
    /// </summary>
    public SocketsHttpHandler Apply(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!IsEnabled)
        {
            return handler;
        }
        var authority = RequireAuthority();
        handler.SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => authority.ValidateServer(certificate, chain, errors),
            ClientCertificates = [Certificate!],
            // Always ours, whatever issuers the server lists: it checks against the same authority.
            LocalCertificateSelectionCallback = (_, _, _, _, _) => Certificate!,
        };
        return handler;
    }

    private AuthorityTrust RequireAuthority() =>
        Authority ?? throw new InvalidOperationException("TLS between members needs the cluster's authority (--tls-ca).");
}
