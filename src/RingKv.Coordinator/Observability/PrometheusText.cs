using System.Globalization;

namespace RingKv.Coordinator.Observability;

/// <summary>One sample line of the Prometheus text format: a metric name, its labels and a value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// Reads the sample lines of the Prometheus text exposition format (what every node's /metrics
/// answers). Comments, blank lines and lines that do not parse are skipped: a scrape is
/// best-effort, and one odd line must not hide the rest.
/// </summary>
public static class PrometheusText
{
    public static IEnumerable<PrometheusSample> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            if (TryParseLine(line, out var sample))
            {
                yield return sample;
            }
        }
    }

    public static bool TryParseLine(string line, out PrometheusSample sample)
    {
        ArgumentNullException.ThrowIfNull(line);
        sample = null!;
        var nameEnd = 0;
        while (nameEnd < line.Length && line[nameEnd] is not ('{' or ' ' or '\t'))
        {
            nameEnd++;
        }
        if (nameEnd == 0 || nameEnd == line.Length)
        {
            return false;
        }
        var name = line[..nameEnd];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var position = nameEnd;
        if (line[position] == '{' && !TryParseLabels(line, ref position, labels))
        {
            return false;
        }
        // Value, then an optional timestamp.
        var rest = line[position..].Trim();
        var valueEnd = rest.IndexOfAny([' ', '\t']);
        var valueText = valueEnd < 0 ? rest : rest[..valueEnd];
        if (!TryParseValue(valueText, out var value))
        {
            return false;
        }
        sample = new PrometheusSample(name, labels, value);
        return true;
    }

    private static bool TryParseLabels(string line, ref int position, Dictionary<string, string> labels)
    {
        position++;
        while (true)
        {
            while (position < line.Length && line[position] is ' ' or ',')
            {
                position++;
            }
            if (position >= line.Length)
            {
                return false;
            }
            if (line[position] == '}')
            {
                position++;
                return true;
            }
            var equals = line.IndexOf('=', position);
            if (equals < 0 || equals + 1 >= line.Length || line[equals + 1] != '"')
            {
                return false;
            }
            var labelName = line[position..equals].Trim();
            var value = new System.Text.StringBuilder();
            var i = equals + 2;
            for (; i < line.Length && line[i] != '"'; i++)
            {
                if (line[i] == '\\' && i + 1 < line.Length)
                {
                    i++;
                    value.Append(line[i] switch { 'n' => '\n', var c => c });
                }
                else
                {
                    value.Append(line[i]);
                }
            }
            if (i >= line.Length)
            {
                return false;
            }
            labels[labelName] = value.ToString();
            position = i + 1;
        }
    }

    private static bool TryParseValue(string text, out double value)
    {
        switch (text)
        {
            case "+Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            case "NaN":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }
}
