using System.Globalization;
using Microsoft.AspNetCore.Http;

namespace RingKv.Node.Api;

/// <summary>
/// Per-request quorum: <c>?w=</c> / <c>?r=</c> (1..RF) or <c>?consistency=one|quorum|all</c>.
/// Absent: the default, a majority of the replication factor.
/// </summary>
public static class QuorumParameters
{
    public static int Majority(int replicationFactor) => (replicationFactor / 2) + 1;

    /// <summary>Null <paramref name="required"/> means "the default". False with an error text for a 400.</summary>
    public static bool TryParse(IQueryCollection query, string countName, int replicationFactor, out int? required, out string error)
    {
        required = null;
        error = string.Empty;
        var hasCount = query.TryGetValue(countName, out var countText);
        var hasLevel = query.TryGetValue("consistency", out var levelText);
        if (hasCount && hasLevel)
        {
            error = $"Give either ?{countName}= or ?consistency=, not both.";
            return false;
        }
        if (hasCount)
        {
            if (countText.Count != 1 || !int.TryParse(countText[0], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || count > replicationFactor)
            {
                error = $"?{countName} must be a whole number from 1 to the replication factor ({replicationFactor}).";
                return false;
            }
            required = count;
        }
        else if (hasLevel)
        {
            required = levelText.Count == 1 ? levelText[0] switch
            {
                "one" => 1,
                "quorum" => Majority(replicationFactor),
                "all" => replicationFactor,
                _ => null,
            } : null;
            if (required is null)
            {
                error = "?consistency must be one, quorum or all.";
                return false;
            }
        }
        return true;
    }
}

/// <summary>The quorum a request asked for; a null <paramref name="Required"/> means the service default.</summary>
public readonly record struct RequestQuorum(int? Required);
