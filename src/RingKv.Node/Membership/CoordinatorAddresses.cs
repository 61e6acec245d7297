namespace RingKv.Node.Membership;

/// <summary>
/// The coordinator members a node knows (from <c>--join URL[,URL...]</c>): it talks to one at a
/// time and moves on to the next when that one stops answering. Any member answers map fetches
/// and passes joins and heartbeats to the leader, so the node need not know who leads.
/// </summary>
public sealed class CoordinatorAddresses
{
    private readonly Uri[] _urls;
    private int _current;

    public CoordinatorAddresses(string join)
    {
        _urls = [.. Parse(join)];
        if (_urls.Length == 0)
        {
            throw new ArgumentException("No coordinator URL given.", nameof(join));
        }
    }

    public IReadOnlyList<Uri> All => _urls;

    /// <summary>The member to ask now, with a trailing slash.</summary>
    public Uri Current => _urls[Volatile.Read(ref _current) % _urls.Length];

    /// <summary>The member <paramref name="failed"/> did not answer: the next one is asked from now on (once, however many callers saw it fail).</summary>
    public void MoveOn(Uri failed)
    {
        var current = Volatile.Read(ref _current);
        if (_urls[current % _urls.Length] == failed)
        {
            Interlocked.CompareExchange(ref _current, current + 1, current);
        }
    }

    public static IEnumerable<Uri> Parse(string join) =>
        join.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(url => new Uri(url.TrimEnd('/') + "/"));

    public override string ToString() => string.Join(",", _urls.Select(u => u.ToString().TrimEnd('/')));
}
