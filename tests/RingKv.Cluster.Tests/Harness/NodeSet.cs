using System.Collections;

namespace RingKv.Cluster.Tests.Harness;

/// <summary>
/// The nodes of a test cluster. A test adds or removes nodes while background load
/// (<see cref="WriteLoad"/>) picks from them on other threads, so every read works on a snapshot
/// taken under the lock: enumerating a plain list while another thread grows it can yield a null.
/// </summary>
public sealed class NodeSet : IReadOnlyList<TestNode>
{
    private readonly Lock _gate = new();
    private readonly List<TestNode> _nodes = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _nodes.Count;
            }
        }
    }

    public TestNode this[int index]
    {
        get
        {
            lock (_gate)
            {
                return _nodes[index];
            }
        }
    }

    public void Add(TestNode node)
    {
        lock (_gate)
        {
            _nodes.Add(node);
        }
    }

    public bool Remove(TestNode node)
    {
        lock (_gate)
        {
            return _nodes.Remove(node);
        }
    }

    public IEnumerator<TestNode> GetEnumerator()
    {
        TestNode[] snapshot;
        lock (_gate)
        {
            snapshot = [.. _nodes];
        }
        return ((IEnumerable<TestNode>)snapshot).GetEnumerator();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
