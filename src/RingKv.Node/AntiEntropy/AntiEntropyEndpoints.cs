using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RingKv.Node.Api;
using RingKv.Node.Api.OpenApi;

namespace RingKv.Node.AntiEntropy;

/// <summary><c>GET /v1/local/anti-entropy</c>: this node's anti-entropy rounds, totals and, with <c>?ranges=true</c>, every range's last exchange.</summary>
public static class AntiEntropyEndpoints
{
    public static IEndpointRouteBuilder MapAntiEntropyApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/local/anti-entropy", (Func<HttpContext, Task>)StatusAsync)
            .WithName("antiEntropy").WithTags("cluster")
            .WithSummary("This node's anti-entropy rounds, totals and tombstone counts")
            .WithQuery("ranges")
            .AnswersAnyJson(200, "The node's anti-entropy status")
            .AnswersProblems((400, "invalid-query"))
            .AnswersProblems(ApiDescription.AuthProblems);
        return routes;
    }

    private static async Task StatusAsync(HttpContext context)
    {
        // Registered only on clustered nodes: a standalone node has no replicas to compare.
        if (context.RequestServices.GetService<AntiEntropyProgress>() is not { } progress)
        {
            await Problem.WriteAsync(context, 404, "not-clustered", "No anti-entropy",
                "This node is standalone: anti-entropy runs between the replicas of a cluster. Start nodes with --join <coordinator-url>.");
            return;
        }
        if (context.Request.Query.Count > 0 && !(context.Request.Query.Count == 1 && context.Request.Query.TryGetValue("ranges", out var value) && value is ["true" or "false"]))
        {
            await Problem.InvalidQuery(context, "This endpoint takes only ?ranges=true or ?ranges=false.");
            return;
        }
        var includeRanges = context.Request.Query["ranges"] == "true";
        await context.Response.WriteAsJsonAsync(progress.Snapshot(includeRanges), AntiEntropyJsonContext.Default.AntiEntropyStatus, cancellationToken: context.RequestAborted);
    }
}
