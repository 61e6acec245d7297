using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace RingKv.Node.Security;

/// <summary>
/// The audit trail: every cluster change and every refused credential, as one log line in the
/// <see cref="Category"/> category saying when (UTC, ISO 8601), what, and who (a token's name and
/// fingerprint, a member id, or the remote address). Never a token, a secret or a value: a
/// presented token appears only as the first 12 hex digits of its SHA-256, which identifies it
/// without giving it away (docs/API.md "Audit log").
/// </summary>
public sealed partial class AuditLog(ILoggerFactory loggers, TimeProvider time)
{
    public const string Category = "RingKv.Audit";

    /// <summary>The coordinator acting on its own (failure detector, change pipeline).</summary>
    public const string Coordinator = "coordinator";

    private readonly ILogger _logger = loggers.CreateLogger(Category);

    /// <summary>Who sent a request: the authenticated token's name and fingerprint if any, and the remote address.</summary>
    public static string Who(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return context.Items[typeof(TokenIdentity)] is TokenIdentity identity
            ? $"token '{identity.Name}' ({identity.Fingerprint}) from {remote}"
            : "anonymous from " + remote;
    }

    public void AuthenticationFailed(HttpContext context, string reason, string? presentedFingerprint)
    {
        ArgumentNullException.ThrowIfNull(context);
        var who = (presentedFingerprint is null ? "no token" : "token " + presentedFingerprint) + " from " + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");
        LogRefused(_logger, Now(), "authentication-failed", who, $"{context.Request.Method} {context.Request.Path}: {reason}");
    }

    /// <summary>A RESP connection's AUTH (or HELLO ... AUTH) was refused.</summary>
    public void RespAuthenticationFailed(string remote, string reason, string? presentedFingerprint) =>
        LogRefused(_logger, Now(), "authentication-failed", (presentedFingerprint is null ? "no token" : "token " + presentedFingerprint) + " from " + remote, "RESP AUTH: " + reason);

    public void Forbidden(HttpContext context, Role role, Role required)
    {
        ArgumentNullException.ThrowIfNull(context);
        LogRefused(_logger, Now(), "forbidden", Who(context),
            $"{context.Request.Method} {context.Request.Path}: role {role.ToString().ToLowerInvariant()} below {required.ToString().ToLowerInvariant()}");
    }

    /// <param name="listener">Where: <c>control-plane</c> (coordinator) or <c>internode</c> (node).</param>
    public void ClusterSecretRefused(HttpContext context, string listener, bool presented)
    {
        ArgumentNullException.ThrowIfNull(context);
        LogRefused(_logger, Now(), "cluster-secret-refused", "remote " + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"),
            $"{listener} {context.Request.Method} {context.Request.Path}: {(presented ? "wrong secret" : "no secret")}");
    }

    /// <summary>An operator asked for a cluster change (add or remove a node, cancel a transfer).</summary>
    public void OperatorRequest(HttpContext context, string action, string target) =>
        LogChange(_logger, Now(), action, Who(context), target);

    public void MemberAdmitted(string who, string id, string state, long epoch) =>
        LogChange(_logger, Now(), "member-admitted", who, $"{id} as {state}, epoch {epoch.ToString(CultureInfo.InvariantCulture)}");

    public void MemberRefused(string who, string id, string reason) =>
        LogRefused(_logger, Now(), "member-refused", who, $"{id}: {reason}");

    public void MemberRemoved(string id, string reason, long epoch) =>
        LogChange(_logger, Now(), "member-removed", Coordinator, $"{id} ({reason}), epoch {epoch.ToString(CultureInfo.InvariantCulture)}");

    public void MemberEvicted(string id, string reason, long epoch) =>
        LogChange(_logger, Now(), "member-evicted", Coordinator, $"{id} ({reason}), epoch {epoch.ToString(CultureInfo.InvariantCulture)}");

    public void TransferStarted(string id, string destination, int ranges, string reason) =>
        LogChange(_logger, Now(), "transfer-started", Coordinator, $"{id} to {destination}, {ranges.ToString(CultureInfo.InvariantCulture)} ranges ({reason})");

    public void TransferCancelled(string id) =>
        LogChange(_logger, Now(), "transfer-cancelled", Coordinator, id);

    public void TransferFailed(string id, string error) =>
        LogChange(_logger, Now(), "transfer-failed", Coordinator, $"{id}: {error}");

    public void ChangeRolledBack(string id, string kind, string node, string reason) =>
        LogChange(_logger, Now(), "change-rolled-back", Coordinator, $"{id} ({kind} {node}): {reason}");

    private string Now() => time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Information, Message = "audit at={At} action={Action} who={Who}: {What}")]
    private static partial void LogChange(ILogger logger, string at, string action, string who, string what);

    [LoggerMessage(Level = LogLevel.Warning, Message = "audit at={At} action={Action} who={Who}: {What}")]
    private static partial void LogRefused(ILogger logger, string at, string action, string who, string what);
}

/// <summary>An authenticated client token: its name from the auth file and a fingerprint (never the token).</summary>
public sealed record TokenIdentity(string Name, Role Role, string Fingerprint);
