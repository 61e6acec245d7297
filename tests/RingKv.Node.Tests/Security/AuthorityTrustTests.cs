using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RingKv.Node.Security.Tls;

namespace RingKv.Node.Tests.Security;

/// <summary>The validator members use on each other: the cluster's authority only, in date, right purpose, right name.</summary>
public sealed class AuthorityTrustTests : IDisposable
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly X509Certificate2 _authority = CertificateIssuer.CreateAuthority("cluster", Now.AddDays(-1), Now.AddYears(1));
    private readonly X509Certificate2 _other = CertificateIssuer.CreateAuthority("cluster", Now.AddDays(-1), Now.AddYears(1));
    private readonly X509Certificate2 _node;

    public AuthorityTrustTests()
    {
        _node = CertificateIssuer.Issue(_authority, "node", ["localhost"], [IPAddress.Loopback], Now.AddDays(-1), Now.AddDays(30));
    }

    private AuthorityTrust Trust => new([_authority]);

    [Fact]
    public void TrustsACertificateItsAuthoritySignedForBothPurposes()
    {
        Assert.Null(Trust.Check(_node, AuthorityTrust.ServerAuthentication));
        Assert.Null(Trust.Check(_node, AuthorityTrust.ClientAuthentication));
        Assert.True(Trust.ValidateClient(_node, null));
    }

    [Fact]
    public void RefusesACertificateFromAnotherAuthorityEvenWithTheSameName()
    {
        // Same subject name as the real authority: only the signature tells them apart.
        using var stranger = CertificateIssuer.Issue(_other, "node", ["localhost"], [IPAddress.Loopback], Now.AddDays(-1), Now.AddDays(30));

        Assert.NotNull(Trust.Check(stranger, AuthorityTrust.ServerAuthentication));
        Assert.False(Trust.ValidateClient(stranger, null));
        Assert.False(Trust.ValidateServer(stranger, null, SslPolicyErrors.RemoteCertificateChainErrors));
    }

    [Fact]
    public void RefusesACertificateOutsideItsValidity()
    {
        Assert.NotNull(Trust.Check(_node, AuthorityTrust.ServerAuthentication, at: Now.AddDays(31).UtcDateTime));
        Assert.NotNull(Trust.Check(_node, AuthorityTrust.ServerAuthentication, at: Now.AddDays(-2).UtcDateTime));
    }

    [Fact]
    public void RefusesACertificateNotMadeForThePurpose()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=client only", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([AuthorityTrust.ClientAuthentication], critical: false));
        using var clientOnly = request.Create(_authority, Now.AddDays(-1), Now.AddDays(30), [1, 2, 3, 4]);

        Assert.Null(Trust.Check(clientOnly, AuthorityTrust.ClientAuthentication));
        Assert.NotNull(Trust.Check(clientOnly, AuthorityTrust.ServerAuthentication));
    }

    [Fact]
    public void ServerValidationRefusesANameMismatchOrNoCertificateButOverridesTheSystemChainVerdict()
    {
        Assert.True(Trust.ValidateServer(_node, null, SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(Trust.ValidateServer(_node, null, SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(Trust.ValidateServer(null, null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }

    [Fact]
    public async Task HandshakeSucceedsForTheNamedAddressAndFailsForAnAddressTheCertificateDoesNotName()
    {
        // A certificate for 127.0.0.1 only, dialled as 127.0.0.1 and then as "localhost": the
        // platform's name check must reach our callback and make it refuse.
        using var ipOnly = CertificateIssuer.Issue(_authority, "node", [], [IPAddress.Loopback], Now.AddDays(-1), Now.AddDays(30));

        await HandshakeAsync(ipOnly, "127.0.0.1");
        await Assert.ThrowsAsync<AuthenticationException>(() => HandshakeAsync(ipOnly, "localhost"));
    }

    private async Task HandshakeAsync(X509Certificate2 serverCertificate, string targetHost)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var accepted = await listener.AcceptTcpClientAsync();
        await using var serverStream = new SslStream(accepted.GetStream());
        await using var clientStream = new SslStream(client.GetStream());
        var trust = Trust;
        var server = serverStream.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = serverCertificate });
        var clientSide = clientStream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => trust.ValidateServer(certificate, chain, errors),
        });
        try
        {
            await clientSide;
        }
        finally
        {
            clientStream.Close();
            await Task.WhenAny(server);
        }
    }

    public void Dispose()
    {
        _node.Dispose();
        _authority.Dispose();
        _other.Dispose();
    }
}
