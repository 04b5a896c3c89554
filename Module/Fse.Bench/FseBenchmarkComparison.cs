namespace Fse.Bench;

/// <summary>
/// One grid point measured twice (baseline = FSE off, candidate = FSE on): TPOT mean and p99 in ms and output and
/// total throughput in tok/s, each as baseline, candidate and the change in percent of the baseline.
/// </summary>
public sealed class FseBenchmarkComparison
{
    public int InputLength { get; init; }
    public int OutputLength { get; init; }
    public int MaxConcurrency { get; init; }
    public double RequestRate { get; init; } = double.PositiveInfinity;

    /// <summary>What the baseline is (its FSE mode or label).</summary>
    public string? Baseline { get; init; }

    /// <summary>What the candidate is (its FSE mode or label).</summary>
    public string? Candidate { get; init; }

    public double BaselineMeanTpotMs { get; init; }
    public double CandidateMeanTpotMs { get; init; }
    public double MeanTpotDeltaPct { get; init; }
    public double BaselineP99TpotMs { get; init; }
    public double CandidateP99TpotMs { get; init; }
    public double P99TpotDeltaPct { get; init; }
    public double BaselineOutputThroughput { get; init; }
    public double CandidateOutputThroughput { get; init; }
    public double OutputThroughputDeltaPct { get; init; }
    public double BaselineTotalThroughput { get; init; }
    public double CandidateTotalThroughput { get; init; }
    public double TotalThroughputDeltaPct { get; init; }

    /// <summary>(candidate − baseline) / baseline in percent; NaN when the baseline is 0 or not a number.</summary>
    public static double DeltaPct(double baseline, double candidate) =>
        baseline == 0 || double.IsNaN(baseline) || double.IsNaN(candidate) ? double.NaN : (candidate - baseline) / baseline * 100.0;
}
