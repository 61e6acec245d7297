using RingKv.Coordinator.Observability;

namespace RingKv.Dashboard.Tests;

public sealed class PrometheusTextTests
{
    private const string Scrape = """
        # HELP ringkv_requests_total Client requests by operation and status code class.
        # TYPE ringkv_requests_total counter
        ringkv_requests_total{otel_scope_name="RingKv",op="get",status="2xx"} 12 1733220000000
        ringkv_requests_total{otel_scope_name="RingKv",op="get",status="5xx"} 2
        ringkv_requests_total{op="put",status="2xx"} 7
        ringkv_request_duration_seconds_bucket{op="get",le="0.001"} 5
        ringkv_request_duration_seconds_bucket{op="get",le="0.01"} 13
        ringkv_request_duration_seconds_bucket{op="get",le="+Inf"} 14
        ringkv_request_duration_seconds_bucket{op="get",le="bogus"} 1
        ringkv_request_duration_seconds_sum{op="get"} 0.0421
        ringkv_request_duration_seconds_count{op="get"} 14
        ringkv_other{label="with \"quotes\" and , comma"} 3
        not a sample line
        """;

    [Fact]
    public void ReadsNamesLabelsAndValuesAndSkipsWhatDoesNotParse()
    {
        var samples = PrometheusText.Parse(Scrape).ToList();
        Assert.Equal(10, samples.Count);
        Assert.Equal("with \"quotes\" and , comma", samples.Single(s => s.Name == "ringkv_other").Labels["label"]);
        Assert.Equal(12, samples[0].Value);
        Assert.Equal("+Inf", samples.Single(s => s.Labels.GetValueOrDefault("le") == "+Inf").Labels["le"]);
    }

    [Fact]
    public void SumsRequestCountsPerOperationAndStatusAndKeepsBucketsInOrderSkippingBadBounds()
    {
        var traffic = NodeTraffic.FromSamples("n1", "up", PrometheusText.Parse(Scrape));
        Assert.True(traffic.Reachable);
        Assert.Equal(
            [new RequestCount("get", "2xx", 12), new RequestCount("get", "5xx", 2), new RequestCount("put", "2xx", 7)],
            traffic.Requests);
        var get = Assert.Single(traffic.Latency);
        Assert.Equal(14, get.Count);
        Assert.Equal(0.0421, get.SumSeconds, 6);
        Assert.Equal([("0.001", 5L), ("0.01", 13L), ("+Inf", 14L)], get.Buckets);
    }
}
