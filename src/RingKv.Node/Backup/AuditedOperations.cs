using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using RingKv.Node.Security;

namespace RingKv.Node.Backup;

/// <summary>
/// A backup or restore is hundreds of requests to each node; the audit log gets one line per
/// node for each (the first request carrying its id), not one per page or batch. A request
/// without an id is logged every time.
/// </summary>
internal sealed class AuditedOperations(AuditLog audit)
{
    // Ids are kept only to avoid repeating a line: past the bound they are forgotten, and an
    // operation still running then is logged once more, which is harmless.
    private const int MaxRemembered = 1024;

    private readonly ConcurrentDictionary<string, byte> _seen = new(StringComparer.Ordinal);

    public void Once(HttpContext context, string action, string noun, string id, string what)
    {
        if (id.Length > 0)
        {
            if (_seen.Count >= MaxRemembered)
            {
                _seen.Clear();
            }
            if (!_seen.TryAdd(action + " " + id, 0))
            {
                return;
            }
        }
        audit.OperatorRequest(context, action, id.Length > 0 ? $"{noun} {id}: {what}" : what);
    }
}
