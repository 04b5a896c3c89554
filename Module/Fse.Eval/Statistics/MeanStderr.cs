namespace Fse.Eval.Statistics;

/// <summary>lm-eval's <c>mean</c> aggregation and its <c>mean_stderr</c>: the sample standard deviation (n − 1) over √n.</summary>
public static class MeanStderr
{
    /// <summary>The mean; NaN for no values.</summary>
    public static double Mean(IReadOnlyCollection<double> values) => values.Count == 0 ? double.NaN : values.Sum() / values.Count;

    /// <summary>
    /// <c>sample_stddev(x) / sqrt(len(x))</c>; NaN for fewer than two values, where lm-eval reports "N/A".
    /// </summary>
    public static double Stderr(IReadOnlyCollection<double> values)
    {
        int n = values.Count;
        if (n < 2) return double.NaN;
        double mu = values.Sum() / n;
        double ss = 0;
        foreach (var x in values) ss += (x - mu) * (x - mu);
        return Math.Sqrt(ss / (n - 1)) / Math.Sqrt(n);
    }
}
