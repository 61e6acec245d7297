using System.Net;
using System.Security.Cryptography.X509Certificates;
using RingKv.Node.Security.Tls;

namespace RingKv.Node.Tests.Security;

/// <summary>The certificates <c>up --tls</c> makes: what an authority and a node certificate say, and that they chain.</summary>
public sealed class CertificateIssuerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AuthorityIsACriticalCaThatMaySignOnlyEndEntities()
    {
        using var authority = CertificateIssuer.CreateAuthority("test authority", Now, Now.AddYears(10));

        var constraints = authority.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(constraints.CertificateAuthority);
        Assert.True(constraints.Critical);
        Assert.True(constraints.HasPathLengthConstraint);
        Assert.Equal(0, constraints.PathLengthConstraint);
        var usage = authority.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.Equal(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, usage.KeyUsages);
        Assert.True(usage.Critical);
        Assert.Equal(authority.Subject, authority.Issuer);
        Assert.True(authority.HasPrivateKey);
    }

    [Fact]
    public void NodeCertificateNamesLoopbackAndTheBindAddressAndServesBothEnds()
    {
        using var authority = CertificateIssuer.CreateAuthority("test authority", Now, Now.AddYears(10));
        var bind = IPAddress.Parse("10.1.2.3");

        using var node = CertificateIssuer.Issue(authority, "node", ["localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback, bind], Now, Now.AddDays(365));

        var names = node.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single();
        Assert.Equal(["localhost"], names.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback, bind], names.EnumerateIPAddresses());
        Assert.True(node.MatchesHostname("127.0.0.1"));
        Assert.True(node.MatchesHostname("localhost"));
        Assert.False(node.MatchesHostname("10.1.2.4"));
        Assert.False(node.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, node.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
        var purposes = node.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value).ToList();
        Assert.Equal([AuthorityTrust.ServerAuthentication.Value, AuthorityTrust.ClientAuthentication.Value], purposes);
        Assert.Equal(authority.Subject, node.Issuer);
        Assert.Equal(Now.UtcDateTime, node.NotBefore.ToUniversalTime());
        Assert.Equal(Now.AddDays(365).UtcDateTime, node.NotAfter.ToUniversalTime());
        Assert.True(node.HasPrivateKey);
        Assert.NotEqual(authority.SerialNumber, node.SerialNumber);
    }

    [Fact]
    public void NodeCertificateNeverOutlivesItsAuthority()
    {
        using var authority = CertificateIssuer.CreateAuthority("short authority", Now, Now.AddDays(10));

        using var node = CertificateIssuer.Issue(authority, "node", [], [IPAddress.Loopback], Now, Now.AddDays(365));

        Assert.Equal(authority.NotAfter, node.NotAfter);
    }

    [Fact]
    public void PemFilesLoadBackWithTheKeyOnlyReadableByTheOwner()
    {
        using var directory = new TempFolder();
        using var authority = CertificateIssuer.CreateAuthority("test authority", Now, Now.AddYears(10));
        using var node = CertificateIssuer.Issue(authority, "node", ["localhost"], [IPAddress.Loopback], Now, Now.AddDays(30));
        var certificateFile = directory.Combine("node.crt");
        var keyFile = directory.Combine("node.key");

        CertificateIssuer.WritePem(node, certificateFile, keyFile);

        using var loaded = X509Certificate2.CreateFromPemFile(certificateFile, keyFile);
        Assert.Equal(node.Thumbprint, loaded.Thumbprint);
        Assert.True(loaded.HasPrivateKey);
        AssertOwnerOnly(keyFile);
    }

    [Fact]
    public void LocalAuthorityKeepsItsAuthorityAndReissuesTheCertificateOnlyWhenTheBindAddressIsNotNamed()
    {
        using var directory = new TempFolder();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now);

        var first = LocalAuthority.Ensure(directory.Path, IPAddress.Loopback, time);
        var authorityText = File.ReadAllText(first.AuthorityFile);
        var certificateText = File.ReadAllText(first.CertificateFile);
        var again = LocalAuthority.Ensure(directory.Path, IPAddress.Loopback, time);
        Assert.Equal(first, again);
        Assert.Equal(certificateText, File.ReadAllText(again.CertificateFile));

        LocalAuthority.Ensure(directory.Path, IPAddress.Parse("10.9.8.7"), time);

        Assert.Equal(authorityText, File.ReadAllText(first.AuthorityFile));
        Assert.NotEqual(certificateText, File.ReadAllText(first.CertificateFile));
        using var reissued = X509Certificate2.CreateFromPemFile(first.CertificateFile, first.KeyFile);
        Assert.True(reissued.MatchesHostname("10.9.8.7"));
        Assert.Null(AuthorityTrust.Load(first.AuthorityFile).Check(reissued, AuthorityTrust.ServerAuthentication, at: Now.UtcDateTime.AddDays(1)));
        AssertOwnerOnly(Path.Combine(directory.Path, "tls", LocalAuthority.AuthorityKeyName));
        AssertOwnerOnly(first.KeyFile);
    }

    [Fact]
    public void LocalAuthorityReissuesACertificateCloseToExpiry()
    {
        using var directory = new TempFolder();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(Now);
        var files = LocalAuthority.Ensure(directory.Path, IPAddress.Loopback, time);
        var certificateText = File.ReadAllText(files.CertificateFile);

        time.Advance(LocalAuthority.CertificateValidity - LocalAuthority.RenewBefore + TimeSpan.FromDays(1));
        LocalAuthority.Ensure(directory.Path, IPAddress.Loopback, time);

        Assert.NotEqual(certificateText, File.ReadAllText(files.CertificateFile));
    }

    private static void AssertOwnerOnly(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }
}

/// <summary>A temporary directory for file-writing tests, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ringkv-tls-").FullName;

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
