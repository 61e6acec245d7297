using Microsoft.AspNetCore.Http;

namespace RingKv.Node.Api;

/// <summary>
/// Unknown query parameters are refused rather than ignored, on every endpoint: a typo such as
/// <c>?tll=60</c> or <c>?forse=true</c> must not silently do something else than asked.
/// </summary>
public static class QueryRules
{
    /// <summary>False once a <c>400 invalid-query</c> problem has been answered.</summary>
    public static async ValueTask<bool> AllowOnlyAsync(HttpContext context, params string[] allowed)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.Request.QueryString.HasValue)
        {
            return true;
        }
        foreach (var (name, values) in context.Request.Query)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                await Problem.InvalidQuery(context, allowed.Length == 0
                    ? $"Unknown query parameter '{name}': this request takes none."
                    : $"Unknown query parameter '{name}'. Allowed here: {string.Join(", ", allowed)}.");
                return false;
            }
            if (values.Count > 1)
            {
                await Problem.InvalidQuery(context, $"Query parameter '{name}' is given more than once. Give it once.");
                return false;
            }
        }
        return true;
    }
}
