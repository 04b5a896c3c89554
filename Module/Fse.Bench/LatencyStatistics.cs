using MathNet.Numerics.Statistics;

namespace Fse.Bench;

/// <summary>
/// Mean, median, population standard deviation and the 99th percentile of one latency series, in milliseconds,
/// as numpy computes them in <c>vllm bench serve</c> (<c>np.std</c> with ddof 0, <c>np.percentile</c> with linear
/// interpolation, R7). An empty series gives NaN everywhere (vLLM prints 0 there, which reads like a real latency).
/// </summary>
public sealed record LatencyStatistics(double MeanMs, double MedianMs, double StdMs, double P99Ms)
{
    public static LatencyStatistics Empty { get; } = new(double.NaN, double.NaN, double.NaN, double.NaN);

    /// <param name="seconds">The samples in seconds.</param>
    public static LatencyStatistics FromSeconds(IReadOnlyCollection<double> seconds)
    {
        if (seconds.Count == 0) return Empty;
        var ms = seconds.Select(s => s * 1000.0).ToArray();
        return new LatencyStatistics(
            ArrayStatistics.Mean(ms),
            Percentile(ms, 50),
            ArrayStatistics.PopulationStandardDeviation(ms),
            Percentile(ms, 99));
    }

    /// <summary><c>np.percentile(data, p)</c>: linear interpolation between the closest ranks (R7).</summary>
    public static double Percentile(IEnumerable<double> data, double p) =>
        Statistics.QuantileCustom(data, p / 100.0, QuantileDefinition.R7);
}
