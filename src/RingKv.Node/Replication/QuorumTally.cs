namespace RingKv.Node.Replication;

/// <summary>
/// The counting rule of a quorum: <c>required</c> successful answers out of <c>expected</c>, and
/// the outcome is decided as soon as it is reached or can no longer be. A quorum is of distinct
/// nodes: a second success from a node that already answered counts as a failure (two owners that
/// did not answer may both fall back to the same node; two hints there are one copy).
/// A quorum may also have an anchor: a node whose success it cannot do without (under
/// <c>--synced-acks one</c>, the coordinating node, whose copy is the synced one).
/// Not thread-safe: its owner serialises calls under its own lock.
/// </summary>
public struct QuorumTally
{
    private readonly int _required;
    private readonly int _expected;
    private readonly string?[]? _nodes;
    private readonly string? _anchor;
    private bool _anchored;
    private bool _anchorFailed;

    /// <param name="required">Successes that make the quorum.</param>
    /// <param name="expected">Answers that will come, one per replica asked.</param>
    /// <param name="distinctNodes">Whether successes name their node (<see cref="Record(string)"/>) and count once per node; otherwise <see cref="Record(bool)"/>.</param>
    /// <param name="anchor">A node whose success the quorum needs, whatever the others answer; it reports failure with <see cref="RecordAnchorFailed"/>. Needs <paramref name="distinctNodes"/>.</param>
    public QuorumTally(int required, int expected, bool distinctNodes, string? anchor = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(required);
        ArgumentOutOfRangeException.ThrowIfNegative(expected);
        if (anchor is not null && !distinctNodes)
        {
            throw new ArgumentException("An anchor is a node: the tally must tell nodes apart.", nameof(anchor));
        }
        _required = required;
        _expected = expected;
        _nodes = distinctNodes ? new string?[expected] : null;
        _anchor = anchor;
        _anchored = anchor is null;
    }

    /// <summary>Successes so far, each from a distinct node.</summary>
    public int Succeeded { get; private set; }

    public int Failed { get; private set; }

    /// <summary>Whether the outcome is known: the quorum was reached or is out of reach.</summary>
    public bool Decided { get; private set; }

    public readonly bool Reached => Succeeded >= _required && _anchored && !_anchorFailed;

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

    /// <summary>
    /// Counts the anchor's own success (not any other answer under its id, such as a hint it keeps
    /// for a down owner: that copy is not the one the quorum is anchored on).
    /// </summary>
    /// <returns>True for the one answer that decided the outcome; false before it and for every answer after it.</returns>
    public bool RecordAnchor()
    {
        if (_anchor is null)
        {
            throw new InvalidOperationException("This tally has no anchor.");
        }
        _anchored = true;
        return Record(_anchor);
    }

    /// <summary>Counts the anchor's failure: the quorum is then out of reach, whatever the others answer.</summary>
    /// <returns>True if this decided the outcome; false if it was decided already.</returns>
    public bool RecordAnchorFailed()
    {
        if (_anchor is null)
        {
            throw new InvalidOperationException("This tally has no anchor.");
        }
        _anchorFailed = true;
        return Record(success: false);
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
        if (Decided || (!Reached && !_anchorFailed && Failed <= _expected - _required))
        {
            return false;
        }
        Decided = true;
        return true;
    }
}
