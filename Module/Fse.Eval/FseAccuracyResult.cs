using System.Globalization;

namespace Fse.Eval;

/// <summary>
/// The score of one task under one filter (lm-eval's <c>exact_match,strict-match</c> and so on) for one server
/// configuration, with the run's settings, as flat properties so Export-Csv and ConvertTo-Json keep everything.
/// </summary>
public sealed record FseAccuracyResult
{
    public required string Task { get; init; }
    public string? TaskVersion { get; init; }

    /// <summary>The filter pipeline's name, e.g. strict-match or flexible-extract.</summary>
    public required string Filter { get; init; }

    public string Metric { get; init; } = "exact_match";

    /// <summary>The mean of exact_match over the scored items; NaN when none was scored.</summary>
    public required double Score { get; init; }

    /// <summary>Sample standard deviation (n − 1) over √n; NaN for fewer than two scored items (lm-eval's "N/A").</summary>
    public required double Stderr { get; init; }

    /// <summary>Items scored (answered); failed and unfinished items are not counted.</summary>
    public required int N { get; init; }

    /// <summary>Scored items where the filter found nothing and gave its fallback ("[invalid]"); they count as wrong.</summary>
    public required int Invalid { get; init; }

    /// <summary>Items the server never answered after every retry; reported, not scored.</summary>
    public required int Failed { get; init; }

    /// <summary>Items the run set out to score (the test split, or the first Limit items of it).</summary>
    public required int Total { get; init; }

    /// <summary>True when the run was stopped before every item finished: N covers only what finished.</summary>
    public bool Interrupted { get; init; }

    public string? Model { get; init; }

    /// <summary>The server's FSE mode (on/off) when it reports one.</summary>
    public string? Fse { get; init; }

    public string? Device { get; init; }
    public string? Server { get; init; }
    public int NumFewshot { get; init; }
    public long Seed { get; init; }
    public int MaxTokens { get; init; }
    public int? Limit { get; init; }
    public int Concurrency { get; init; }
    public DateTimeOffset StartedAt { get; init; }
    public double DurationSeconds { get; init; }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Task} {Filter}: {Score:0.0000} ± {Stderr:0.0000} (n={N}{(Failed > 0 ? $", {Failed} failed" : "")})");
}
