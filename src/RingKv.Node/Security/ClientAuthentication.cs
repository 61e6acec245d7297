using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RingKv.Node.Api;

namespace RingKv.Node.Security;

/// <summary>
/// Bearer-token authentication for the client API when an auth file is configured: 401 without a
/// valid token, 403 for a token whose role is too small, both problem+json. Tokens are read from
/// the Authorization header only, never from the query string, and never logged.
/// </summary>
public static partial class ClientAuthentication
{
    public static void UseClientAuthentication(this WebApplication app, TokenStore tokens, ILogger logger)
    {
        app.Use(async (context, next) =>
        {
            var required = RequiredRole(context.Request);
            if (required is null)
            {
                await next(context);
                return;
            }
            var header = context.Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || tokens.Authenticate(header["Bearer ".Length..].Trim()) is not { } role)
            {
                LogRefused(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?", context.Request.Method, context.Request.Path, header.Length == 0 ? "no token" : "invalid token");
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"ringkv\"";
                await Problem.WriteAsync(context, 401, "unauthorized", "Authentication required",
                    "Send a valid token as 'Authorization: Bearer <token>' (./ringkv uses --token or RINGKV_TOKEN). Tokens are never accepted in the query string.");
                return;
            }
            if (role < required)
            {
                LogRefused(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?", context.Request.Method, context.Request.Path, $"role {role} below {required}");
                await Problem.WriteAsync(context, 403, "forbidden", "The token's role is not enough",
                    $"This request needs a token with the {required.Value.ToString().ToLowerInvariant()} role; this one has {role.ToString().ToLowerInvariant()}.");
                return;
            }
            await next(context);
        });
    }

    /// <summary>The role a request needs; null for what stays open (health, metrics, the internode and control-plane endpoints).</summary>
    public static Role? RequiredRole(HttpRequest request)
    {
        var path = request.Path;
        if (!path.StartsWithSegments("/v1"))
        {
            return null;
        }
        var reads = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        if (path.StartsWithSegments("/v1/local"))
        {
            return Role.Admin;
        }
        if (path.StartsWithSegments("/v1/cluster"))
        {
            return reads ? Role.Read : Role.Admin;
        }
        return reads ? Role.Read : Role.Write;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Method} {Path} from {Remote}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string remote, string method, PathString path, string reason);
}
