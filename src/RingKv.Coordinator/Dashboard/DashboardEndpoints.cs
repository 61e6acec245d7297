using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace RingKv.Coordinator.Dashboard;

/// <summary>
/// Serves the dashboard at /ui from files embedded in this assembly: no separate server, nothing
/// fetched from elsewhere, so it works offline and its version is the coordinator's. The page is
/// a client of the public API only; it is open (like /metrics), the data behind it is not.
/// </summary>
public static class DashboardEndpoints
{
    public const string Path = "/ui";

    /// <summary>
    /// Scripts and styles from this origin only, no inline code, no framing, no plugins, no forms
    /// posted elsewhere: whatever a node id or a key contains, it cannot run in the page.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

    private static readonly IReadOnlyDictionary<string, Asset> Assets = Load();

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder routes)
    {
        routes.MapMethods(Path + "/{file?}", [HttpMethods.Get, HttpMethods.Head], (HttpContext context, string? file) =>
        {
            // Routing ignores a trailing slash, but relative asset URLs in the page resolve under /ui/ only with it.
            if (context.Request.Path.Value == Path)
            {
                context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
                context.Response.Headers.Location = Path + "/";
                return Task.CompletedTask;
            }
            return ServeAsync(context, file is null or "" ? "index.html" : file);
        });
        return routes;
    }

    private static async Task ServeAsync(HttpContext context, string name)
    {
        var response = context.Response;
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        if (!Assets.TryGetValue(name, out var asset))
        {
            await Node.Api.Problem.WriteAsync(context, 404, "no-such-endpoint", "No such file", $"The dashboard has no file {name}. Open {Path}/.");
            return;
        }
        // Revalidated on every load (a few hundred bytes when unchanged), so an upgraded
        // coordinator never runs a page against a script of the version before.
        response.Headers.CacheControl = "no-cache";
        response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch.ToString() == asset.ETag)
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }
        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(asset.Bytes, context.RequestAborted);
        }
    }

    private static Dictionary<string, Asset> Load()
    {
        var assembly = typeof(DashboardEndpoints).Assembly;
        const string Prefix = "RingKv.Coordinator.Dashboard.";
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            var name = resource[Prefix.Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            assets[name] = new Asset(bytes, ContentTypeOf(name), "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
        }
        return assets;
    }

    private static string ContentTypeOf(string name) => System.IO.Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
