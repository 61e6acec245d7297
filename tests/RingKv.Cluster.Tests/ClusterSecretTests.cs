using System.Net;
using RingKv.Cluster.Tests.Harness;
using RingKv.Testing;

namespace RingKv.Cluster.Tests;

/// <summary>The cluster secret: members carry it; a process without it can neither join nor replicate.</summary>
public sealed class ClusterSecretTests
{
    [Fact]
    public async Task MembersWithTheSecretWorkAndAProcessWithoutItCannotJoin()
    {
        await using var cluster = await TestCluster.StartWithSecretAsync(3);
        Assert.Equal(HttpStatusCode.NoContent, await cluster.PutAsync(cluster.Nodes[0].Url, "secret/k", "v"));
        Assert.Equal("v", (await cluster.GetAsync(cluster.Nodes[2].Url, "secret/k")).Body);

        using var strangerData = new TempDirectory("stranger");
        var stranger = cluster.StartStranger(strangerData.Path);
        var strangerUrl = await stranger.WaitForUrlAsync(TimeSpan.FromSeconds(60));
        var wrongSecret = Path.Combine(strangerData.Path, "wrong.secret");
        await File.WriteAllTextAsync(wrongSecret, new string('x', 64));
        using var impostorData = new TempDirectory("impostor");
        var impostor = cluster.StartStranger(impostorData.Path, "--cluster-secret-file", wrongSecret);
        await impostor.WaitForUrlAsync(TimeSpan.FromSeconds(60));

        // Both keep asking and are refused: the coordinator counts them, and neither becomes a member.
        await Eventually.WaitUntilAsync(async () =>
        {
            var metrics = await cluster.Http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/metrics"));
            return metrics.Split('\n').Any(l => l.StartsWith("ringkv_security_rejected", StringComparison.Ordinal) && l.Contains("control-plane", StringComparison.Ordinal) && !l.EndsWith(" 1", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(30), () => "the coordinator did not count refused joins");
        Assert.Equal(3, (await cluster.MemberStatesAsync()).Count);
        using var ready = await cluster.Http.GetAsync(new Uri(strangerUrl, "/health/ready"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
    }
}
