using System.Globalization;
using System.Text;

namespace Fse.Server.Metrics;

/// <summary>
/// Prometheus text exposition (format 0.0.4). Written by hand because vLLM's metric names carry a colon
/// (<c>vllm:num_requests_running</c>), which Prometheus allows but prometheus-net's name check refuses.
/// </summary>
internal sealed class PrometheusText
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
    private readonly StringBuilder _sb = new();

    public void Header(string name, string type, string help)
    {
        _sb.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
        _sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    public void Sample(string name, IReadOnlyList<(string Name, string Value)> labels, double value)
    {
        _sb.Append(name);
        if (labels.Count > 0)
        {
            _sb.Append('{');
            for (int i = 0; i < labels.Count; i++)
            {
                if (i > 0) _sb.Append(',');
                _sb.Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
            }
            _sb.Append('}');
        }
        _sb.Append(' ').Append(Number(value)).Append('\n');
    }

    public static string Number(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    public override string ToString() => _sb.ToString();
}

/// <summary>A cumulative histogram (bucket counts, sum, count), thread-safe.</summary>
internal sealed class Histogram(double[] bounds)
{
    private readonly long[] _counts = new long[bounds.Length + 1];
    private readonly object _gate = new();
    private double _sum;
    private long _count;

    public void Observe(double value)
    {
        if (double.IsNaN(value)) return;
        int i = Array.BinarySearch(bounds, value);
        if (i < 0) i = ~i;   // the first bound ≥ value (le semantics)
        lock (_gate)
        {
            _counts[i]++;
            _sum += value;
            _count++;
        }
    }

    public long Count
    {
        get { lock (_gate) return _count; }
    }

    public void Write(PrometheusText text, string name, IReadOnlyList<(string, string)> labels)
    {
        long[] counts;
        double sum;
        long count;
        lock (_gate)
        {
            counts = (long[])_counts.Clone();
            sum = _sum;
            count = _count;
        }
        long cumulative = 0;
        for (int i = 0; i <= bounds.Length; i++)
        {
            cumulative += counts[i];
            var le = i < bounds.Length ? PrometheusText.Number(bounds[i]) : "+Inf";
            text.Sample(name + "_bucket", [.. labels, ("le", le)], cumulative);
        }
        text.Sample(name + "_sum", labels, sum);
        text.Sample(name + "_count", labels, count);
    }
}
