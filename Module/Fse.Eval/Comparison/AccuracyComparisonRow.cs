namespace Fse.Eval.Comparison;

/// <summary>
/// One task and filter, baseline (e.g. FSE off) against candidate (FSE on): both scores with their stderr, the
/// difference, and, when per-item records of both runs were given, McNemar's test on the paired items.
/// </summary>
public sealed record AccuracyComparisonRow
{
    public required string Task { get; init; }
    public required string Filter { get; init; }
    public required string BaselineConfig { get; init; }
    public required string CandidateConfig { get; init; }
    public required double BaselineScore { get; init; }
    public required double BaselineStderr { get; init; }
    public required int BaselineN { get; init; }
    public required double CandidateScore { get; init; }
    public required double CandidateStderr { get; init; }
    public required int CandidateN { get; init; }

    /// <summary>CandidateScore − BaselineScore.</summary>
    public double Delta => CandidateScore - BaselineScore;

    /// <summary>Items scored in both runs (null without per-item records).</summary>
    public int? PairedN { get; init; }

    /// <summary>Paired items the baseline got right and the candidate wrong (McNemar's b).</summary>
    public int? BaselineOnlyCorrect { get; init; }

    /// <summary>Paired items the candidate got right and the baseline wrong (McNemar's c).</summary>
    public int? CandidateOnlyCorrect { get; init; }

    /// <summary>McNemar's two-sided p-value.</summary>
    public double? PValue { get; init; }

    /// <summary>Which form of the test gave <see cref="PValue"/>: "exact binomial" (b + c &lt; 25) or "chi-square (continuity-corrected)".</summary>
    public string? Test { get; init; }

    /// <summary>PValue below the comparison's alpha (0.05 by default); null without a test.</summary>
    public bool? Significant { get; init; }
}
