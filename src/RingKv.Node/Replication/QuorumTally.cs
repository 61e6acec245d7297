namespace RingKv.Node.Replication;

/// <summary>
/// The counting rule of a quorum: <c>required</c> successful answers out of <c>expected</c>, and
/// the outcome is decided as soon as it is reached or can no longer be. A quorum is of distinct
/// nodes: a second success from a node that already answered counts as a failure (two owners that
/// did not answer may both fall back to the same node; two hints there are one copy).
/// Not thread-safe: its owner serialises calls under its own lock.
/// </summary>
public struct QuorumTally
{
    private readonly int _required;
    private readonly int _expected;
    private readonly string?[]? _nodes;

    /// <param name="required">Successes that make the quorum.</param>
    /// <param name="expected">Answers that will come, one per replica asked.</param>
    /// <param name="distinctNodes">Whether successes name their node (<see cref="Record(string)"/>) and count once per node; otherwise <see cref="Record(bool)"/>.</param>
    public QuorumTally(int required, int expected, bool distinctNodes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(required);
        ArgumentOutOfRangeException.ThrowIfNegative(expected);
        _required = required;
        _expected = expected;
        _nodes = distinctNodes ? new string?[expected] : null;
    }

    /// <summary>Successes so far, each from a distinct node.</summary>
    public int Succeeded { get; private set; }

    public int Failed { get; private set; }

    /// <summary>Whether the outcome is known: the quorum was reached or is out of reach.</summary>
    public bool Decided { get; private set; }

    public readonly bool Reached => Succeeded >= _required;

    /// <summary>Counts one answer: a success from <paramref name="node"/>, or a failure when it is null.</summary>
    /// <returns>True for the one answer that decided the outcome; false before it and for every answer after it.</returns>
    public bool Record(string? node)
    {
        if (_nodes is null)
        {
            throw new InvalidOperationException("This tally does not tell nodes apart.");
        }
        var counted = node is not null && Succeeded < _nodes.Length && Array.IndexOf(_nodes, node, 0, Succeeded) < 0;
        if (counted)
        {
            _nodes[Succeeded] = node;
        }
        return Record(counted);
    }

    /// <summary>Counts one answer without telling nodes apart (each answer is from a different one).</summary>
    /// <returns>True for the one answer that decided the outcome; false before it and for every answer after it.</returns>
    public bool Record(bool success)
    {
        if (success)
        {
            Succeeded++;
        }
        else
        {
            Failed++;
        }
        if (Decided || (Succeeded < _required && Failed <= _expected - _required))
        {
            return false;
        }
        Decided = true;
        return true;
    }
}
