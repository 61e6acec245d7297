using RingKv.Core.Ring;
using RingKv.Core.Transfers;

namespace RingKv.Core.Tests.Transfers;

/// <summary>
/// Checks a transfer plan against the two rings segment by segment: the token space cut at every
/// token of either ring, each segment tested through its end token (every planned range is a union
/// of whole segments).
/// </summary>
internal static class PlanModel
{
    public static ulong[] SegmentEnds(ConsistentHashRing current, ConsistentHashRing next) =>
        current.VirtualNodes.Select(v => v.Token).Concat(next.VirtualNodes.Select(v => v.Token)).Distinct().Order().ToArray();

    /// <summary>
    /// Per segment (by index in <paramref name="ends"/>), the nodes receiving it with the sources given
    /// for it. Every planned range must start and end on segment boundaries; a node receiving a
    /// segment twice fails the test.
    /// </summary>
    public static Dictionary<string, IReadOnlyList<string>>[] Receivers(TransferPlan plan, ulong[] ends)
    {
        var receivers = NewPerSegment<Dictionary<string, IReadOnlyList<string>>>(ends.Length);
        foreach (var transfer in plan.Transfers.Concat(plan.Unsourced))
        {
            foreach (var range in transfer.Ranges)
            {
                foreach (var segment in Segments(range.Range, ends))
                {
                    Assert.True(receivers[segment].TryAdd(transfer.Destination, range.Sources), $"{transfer.Destination} receives segment ending {ends[segment]:x16} twice");
                }
            }
        }
        return receivers;
    }

    /// <summary>Per segment, the nodes releasing it; a node releasing a segment twice fails the test.</summary>
    public static HashSet<string>[] Releasers(TransferPlan plan, ulong[] ends)
    {
        var releasers = NewPerSegment<HashSet<string>>(ends.Length);
        foreach (var release in plan.Releases)
        {
            foreach (var segment in release.Ranges.SelectMany(r => Segments(r, ends)))
            {
                Assert.True(releasers[segment].Add(release.NodeId), $"{release.NodeId} releases segment ending {ends[segment]:x16} twice");
            }
        }
        return releasers;
    }

    /// <summary>
    /// Applies the plan to every segment: old owners, plus receivers, minus releasers, minus nodes no
    /// longer on the ring; the result must be exactly the new preference list, on distinct nodes.
    /// </summary>
    public static void AssertApplyingThePlanGivesTheNewOwners(TransferPlan plan, ConsistentHashRing current, ConsistentHashRing next, int rf, IReadOnlySet<string> unavailable)
    {
        var ends = SegmentEnds(current, next);
        var receiversOf = Receivers(plan, ends);
        var releasersOf = Releasers(plan, ends);
        var unsourced = Receivers(plan with { Transfers = [] }, ends);
        for (var i = 0; i < ends.Length; i++)
        {
            var token = ends[i];
            var before = current.PreferenceList(token, rf);
            var after = next.PreferenceList(token, rf);
            var receivers = receiversOf[i];
            var releasers = releasersOf[i];

            var owners = before.Concat(receivers.Keys).Where(next.Contains).Except(releasers).ToHashSet(StringComparer.Ordinal);
            Assert.True(owners.SetEquals(after), $"token {token:x16}: before [{string.Join(",", before)}], after [{string.Join(",", after)}], plan gives [{string.Join(",", owners)}]");
            Assert.Equal(Math.Min(rf, next.NodeCount), owners.Count);

            // Only new owners receive, only old owners send, and only nodes that stay and lose it release.
            Assert.Equal(after.Except(before).Order(), receivers.Keys.Order());
            Assert.Equal(before.Except(after).Where(next.Contains).Order(), releasers.Order());
            foreach (var (destination, sources) in receivers)
            {
                var expected = before.Where(n => !unavailable.Contains(n)).OrderBy(n => after.Contains(n) ? 0 : 1);
                Assert.Equal(expected, sources);
                Assert.Equal(sources.Count == 0, unsourced[i].ContainsKey(destination));
            }
        }
    }

    /// <summary>Indexes of the segments a range covers: those after its start up to its end, wrapping.</summary>
    public static IEnumerable<int> Segments(TokenRange range, ulong[] ends)
    {
        var first = Array.BinarySearch(ends, range.Start);
        var last = Array.BinarySearch(ends, range.End);
        Assert.True(first >= 0 && last >= 0, $"{range} does not start and end on segment boundaries");
        var i = first;
        do
        {
            i = (i + 1) % ends.Length;
            yield return i;
        }
        while (i != last);
    }

    private static T[] NewPerSegment<T>(int count)
        where T : new()
    {
        var perSegment = new T[count];
        for (var i = 0; i < count; i++)
        {
            perSegment[i] = new T();
        }
        return perSegment;
    }

    /// <summary>Merged as far as possible: no two ranges of a list touch with the same sources, even across the wrap.</summary>
    public static void AssertMerged(IReadOnlyList<TransferRange> ranges)
    {
        for (var i = 0; i < ranges.Count && ranges.Count > 1; i++)
        {
            var a = ranges[i];
            var b = ranges[(i + 1) % ranges.Count];
            Assert.False(a.Range.End == b.Range.Start && a.Sources.SequenceEqual(b.Sources), $"{a.Range} and {b.Range} touch and were not merged");
        }
    }

    /// <summary>The share of all stored copies that the plan copies: gained fractions over RF.</summary>
    public static double MovedShare(TransferPlan plan, int rf) =>
        plan.Transfers.Concat(plan.Unsourced).Sum(t => t.Fraction) / rf;
}
