using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RingKv.Cli.Bench;

/// <summary>Prints a <see cref="BenchResult"/> for people (text) or machines (one JSON object).</summary>
public static class BenchReport
{
    public static string ToText(BenchResult r)
    {
        var s = r.Settings;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"RingKV bench: {Name(s.Operation)} against {s.Url}, {s.Concurrency} workers, {r.Elapsed.TotalSeconds:0.00} s, {s.ValueSize}-byte values, {s.Keys} keys\n");
        text.Append(CultureInfo.InvariantCulture, $"requests   {r.Requests}  errors {r.Errors}  throughput {r.Throughput:0.0} ops/s\n");
        text.Append(CultureInfo.InvariantCulture, $"latency    p50 {r.P50Ms:0.000} ms  p90 {r.P90Ms:0.000} ms  p99 {r.P99Ms:0.000} ms  p99.9 {r.P999Ms:0.000} ms  max {r.MaxMs:0.000} ms  mean {r.MeanMs:0.000} ms\n");
        if (r.FirstError is not null)
        {
            text.Append(CultureInfo.InvariantCulture, $"first error: {r.FirstError}\n");
        }
        return text.ToString();
    }

    public static string ToJson(BenchResult r)
    {
        var s = r.Settings;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("url", s.Url.ToString());
            json.WriteString("op", Name(s.Operation));
            json.WriteNumber("concurrency", s.Concurrency);
            json.WriteNumber("durationSeconds", Math.Round(r.Elapsed.TotalSeconds, 3));
            json.WriteNumber("valueSize", s.ValueSize);
            json.WriteNumber("keys", s.Keys);
            json.WriteNumber("requests", r.Requests);
            json.WriteNumber("errors", r.Errors);
            json.WriteNumber("throughput", Math.Round(r.Throughput, 1));
            json.WriteStartObject("latencyMs");
            json.WriteNumber("p50", Math.Round(r.P50Ms, 3));
            json.WriteNumber("p90", Math.Round(r.P90Ms, 3));
            json.WriteNumber("p99", Math.Round(r.P99Ms, 3));
            json.WriteNumber("p99.9", Math.Round(r.P999Ms, 3));
            json.WriteNumber("max", Math.Round(r.MaxMs, 3));
            json.WriteNumber("mean", Math.Round(r.MeanMs, 3));
            json.WriteEndObject();
            if (r.FirstError is null)
            {
                json.WriteNull("firstError");
            }
            else
            {
                json.WriteString("firstError", r.FirstError);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Name(BenchOperation operation) => operation switch
    {
        BenchOperation.Put => "put",
        BenchOperation.Get => "get",
        BenchOperation.Fill => "fill",
        _ => "mixed",
    };
}
