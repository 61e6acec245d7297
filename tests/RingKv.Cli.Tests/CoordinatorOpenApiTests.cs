using System.Net;
using RingKv.Testing;

namespace RingKv.Cli.Tests;

/// <summary>The coordinator serves its own OpenAPI document: the cluster API and the gateway's key operations, as it answers them.</summary>
public sealed class CoordinatorOpenApiTests
{
    [Fact]
    public async Task TheCoordinatorsDocumentDescribesTheGatewayAndTheClusterApiAndNotTheControlPlane()
    {
        using var dir = new TempDirectory("coordinator-openapi");
        await using var coordinator = RingKvProcess.Start(["coordinator", "--port", "0", "--data-dir", dir.Path], new RingKvProcessOptions());
        using var http = new HttpClient { BaseAddress = await coordinator.WaitForUrlAsync(Deadlines.NodeStart) };
        var contract = await OpenApiContract.FetchAsync(http);

        Assert.NotNull(contract.Operation("/v1/kv/{key}", "put"));
        Assert.Equal(["If-Match", "If-None-Match", "consistency", "key", "ttl", "w"], contract.ParameterNames("/v1/kv/{key}", "put").Order(StringComparer.Ordinal));
        Assert.NotNull(contract.Operation("/v1/cluster/nodes/{id}", "delete"));
        Assert.Contains("force", contract.ParameterNames("/v1/cluster/nodes/{id}", "delete"));
        Assert.DoesNotContain(contract.Document["paths"]!.AsObject(), path => path.Key.StartsWith("/internal", StringComparison.Ordinal));

        // No node yet: the gateway's 503 and the cluster API's answers are what the document says.
        using (var get = await http.GetAsync("/v1/kv/some/key"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, get.StatusCode);
            Assert.Empty(await contract.MismatchesAsync("/v1/kv/{key}", "get", get));
        }
        using (var list = await http.GetAsync("/v1/kv?prefix=a/"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, list.StatusCode);
            Assert.Empty(await contract.MismatchesAsync("/v1/kv", "get", list));
        }
        using (var cluster = await http.GetAsync("/v1/cluster"))
        {
            Assert.Equal(HttpStatusCode.OK, cluster.StatusCode);
            Assert.Empty(await contract.MismatchesAsync("/v1/cluster", "get", cluster));
        }
        using (var remove = await http.DeleteAsync("/v1/cluster/nodes/n9"))
        {
            Assert.Empty(await contract.MismatchesAsync("/v1/cluster/nodes/{id}", "delete", remove));
        }
        using (var ready = await http.GetAsync("/health/ready"))
        {
            Assert.Empty(await contract.MismatchesAsync("/health/ready", "get", ready));
        }
    }
}
