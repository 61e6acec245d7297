using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using RingKv.Node.Api;

namespace RingKv.Node.Security;

/// <summary>
/// Bearer-token authentication for the client API when an auth file is configured: 401 without a
/// valid token, 403 for a token whose role is too small, both problem+json. Tokens are read from
/// the Authorization header only, never from the query string, and never logged: refusals go to the audit log with the token's fingerprint.
/// </summary>
public static class ClientAuthentication
{
    public static void UseClientAuthentication(this WebApplication app, TokenStore tokens, AuditLog audit)
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
            var presented = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim() : null;
            if (presented is null || tokens.Identify(presented) is not { } identity)
            {
                audit.AuthenticationFailed(context, header.Length == 0 ? "no token" : presented is null ? "not a bearer token" : "unknown token",
                    presented is { Length: > 0 } ? TokenStore.Fingerprint(presented) : null);
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"ringkv\"";
                await Problem.WriteAsync(context, 401, "unauthorized", "Authentication required",
                    "Send a valid token as 'Authorization: Bearer <token>' (./ringkv uses --token or RINGKV_TOKEN). Tokens are never accepted in the query string.");
                return;
            }
            context.Items[typeof(TokenIdentity)] = identity;
            if (identity.Role < required)
            {
                audit.Forbidden(context, identity.Role, required.Value);
                await Problem.WriteAsync(context, 403, "forbidden", "The token's role is not enough",
                    $"This request needs a token with the {required.Value.ToString().ToLowerInvariant()} role; this one has {identity.Role.ToString().ToLowerInvariant()}.");
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
        // /v1/admin: backup's range dump and restore (docs/BACKUP.md).
        if (path.StartsWithSegments("/v1/local") || path.StartsWithSegments("/v1/admin"))
        {
            return Role.Admin;
        }
        // Replicas' versions come from their /v1/local, asked with the caller's token: the same role.
        if (path.StartsWithSegments("/v1/cluster/locate") && request.Query.ContainsKey("versions"))
        {
            return Role.Admin;
        }
        if (path.StartsWithSegments("/v1/cluster"))
        {
            return reads ? Role.Read : Role.Admin;
        }
        return reads ? Role.Read : Role.Write;
    }
}
