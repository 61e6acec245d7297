namespace RingKv.Coordinator.Observability;

/// <summary>Client requests a node has served since it started: per operation and status class.</summary>
public sealed record RequestCount(string Operation, string StatusClass, long Count);

/// <summary>A node's cumulative latency histogram of one operation: bucket upper bounds ("+Inf" last) and cumulative counts.</summary>
public sealed record LatencyHistogram(string Operation, long Count, double SumSeconds, IReadOnlyList<(string UpperBound, long Count)> Buckets);

/// <summary>
/// What one node's /metrics says about client traffic, as cumulative figures: a caller computes
/// rates from the difference between two scrapes (a node that restarted starts again from zero).
/// </summary>
public sealed record NodeTraffic(string Id, string State, bool Reachable, string? Error, IReadOnlyList<RequestCount> Requests, IReadOnlyList<LatencyHistogram> Latency)
{
    public const string RequestsMetric = "ringkv_requests_total";
    public const string DurationMetric = "ringkv_request_duration_seconds";

    public static NodeTraffic Unreachable(string id, string state, string error) => new(id, state, false, error, [], []);

    /// <summary>Sums samples that differ only in labels other than op, status and le (an exporter may add scope labels).</summary>
    public static NodeTraffic FromSamples(string id, string state, IEnumerable<PrometheusSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var requests = new SortedDictionary<(string, string), long>();
        var buckets = new Dictionary<string, SortedDictionary<double, (string Text, long Count)>>(StringComparer.Ordinal);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var sums = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var sample in samples)
        {
            if (!sample.Labels.TryGetValue("op", out var op))
            {
                continue;
            }
            switch (sample.Name)
            {
                case RequestsMetric when sample.Labels.TryGetValue("status", out var status):
                    requests[(op, status)] = requests.GetValueOrDefault((op, status)) + (long)sample.Value;
                    break;
                case DurationMetric + "_bucket" when sample.Labels.TryGetValue("le", out var le) && TryParseBound(le, out var bound):
                    var perOp = buckets.TryGetValue(op, out var existing) ? existing : buckets[op] = [];
                    perOp[bound] = (le, perOp.GetValueOrDefault(bound).Count + (long)sample.Value);
                    break;
                case DurationMetric + "_count":
                    counts[op] = counts.GetValueOrDefault(op) + (long)sample.Value;
                    break;
                case DurationMetric + "_sum":
                    sums[op] = sums.GetValueOrDefault(op) + sample.Value;
                    break;
            }
        }
        var latency = buckets.OrderBy(b => b.Key, StringComparer.Ordinal)
            .Select(b => new LatencyHistogram(b.Key, counts.GetValueOrDefault(b.Key), sums.GetValueOrDefault(b.Key), b.Value.Values.Select(v => (v.Text, v.Count)).ToList()))
            .ToList();
        return new NodeTraffic(id, state, true, null, requests.Select(r => new RequestCount(r.Key.Item1, r.Key.Item2, r.Value)).ToList(), latency);
    }

    private static bool TryParseBound(string text, out double bound)
    {
        if (text == "+Inf")
        {
            bound = double.PositiveInfinity;
            return true;
        }
        return double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out bound);
    }
}
