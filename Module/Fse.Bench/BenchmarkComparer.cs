using System.Globalization;
using System.Text;

namespace Fse.Bench;

/// <summary>The rows of a comparison and what could not be paired.</summary>
public sealed record BenchmarkComparisonSet(IReadOnlyList<FseBenchmarkComparison> Rows, IReadOnlyList<string> Warnings);

/// <summary>
/// Pairs baseline and candidate benchmark results by grid point (input length, output length, concurrency, request
/// rate) and renders the rows as SEMANTICS.md §4's table. Rows follow the baseline's order; a grid point present on
/// one side only, or twice on one side (the later result is used), becomes a warning.
/// </summary>
public static class BenchmarkComparer
{
    public static BenchmarkComparisonSet Compare(IEnumerable<FseBenchmarkResult> baseline, IEnumerable<FseBenchmarkResult> candidate)
    {
        var warnings = new List<string>();
        var (baselineOrder, b) = Index(baseline, "baseline", warnings);
        var (candidateOrder, c) = Index(candidate, "candidate", warnings);
        var rows = new List<FseBenchmarkComparison>();
        foreach (var key in baselineOrder)
        {
            var off = b[key];
            if (!c.TryGetValue(key, out var on))
            {
                warnings.Add($"{Describe(key)}: no candidate result to compare with.");
                continue;
            }
            rows.Add(new FseBenchmarkComparison
            {
                InputLength = key.Isl,
                OutputLength = key.Osl,
                MaxConcurrency = key.Mc,
                RequestRate = key.Rate,
                Baseline = off.Fse ?? off.Label,
                Candidate = on.Fse ?? on.Label,
                BaselineMeanTpotMs = off.MeanTpotMs,
                CandidateMeanTpotMs = on.MeanTpotMs,
                MeanTpotDeltaPct = FseBenchmarkComparison.DeltaPct(off.MeanTpotMs, on.MeanTpotMs),
                BaselineP99TpotMs = off.P99TpotMs,
                CandidateP99TpotMs = on.P99TpotMs,
                P99TpotDeltaPct = FseBenchmarkComparison.DeltaPct(off.P99TpotMs, on.P99TpotMs),
                BaselineOutputThroughput = off.OutputThroughput,
                CandidateOutputThroughput = on.OutputThroughput,
                OutputThroughputDeltaPct = FseBenchmarkComparison.DeltaPct(off.OutputThroughput, on.OutputThroughput),
                BaselineTotalThroughput = off.TotalThroughput,
                CandidateTotalThroughput = on.TotalThroughput,
                TotalThroughputDeltaPct = FseBenchmarkComparison.DeltaPct(off.TotalThroughput, on.TotalThroughput),
            });
        }
        foreach (var key in candidateOrder.Where(k => !b.ContainsKey(k)))
            warnings.Add($"{Describe(key)}: no baseline result to compare with.");
        return new BenchmarkComparisonSet(rows, warnings);
    }

    /// <summary>
    /// <c>| ISL | OSL | MC | TPOT mean (ms) off → on (Δ) | TPOT p99 | Output tok/s off → on (Δ) | Total tok/s off → on (Δ) |</c>,
    /// with a Rate column after MC when any row has a finite request rate.
    /// </summary>
    public static string ToMarkdown(IReadOnlyList<FseBenchmarkComparison> rows)
    {
        bool rates = rows.Any(r => !double.IsPositiveInfinity(r.RequestRate));
        var sb = new StringBuilder();
        sb.Append("| ISL | OSL | MC |").Append(rates ? " Rate |" : "")
          .Append(" TPOT mean (ms) off → on (Δ) | TPOT p99 | Output tok/s off → on (Δ) | Total tok/s off → on (Δ) |\n");
        sb.Append("| ---: | ---: | ---: |").Append(rates ? " ---: |" : "").Append(" --- | --- | --- | --- |\n");
        foreach (var r in rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {r.InputLength} | {r.OutputLength} | {r.MaxConcurrency} |");
            if (rates) sb.Append(' ').Append(double.IsPositiveInfinity(r.RequestRate) ? "inf" : r.RequestRate.ToString("0.###", CultureInfo.InvariantCulture)).Append(" |");
            sb.Append(' ').Append(Cell(r.BaselineMeanTpotMs, r.CandidateMeanTpotMs, r.MeanTpotDeltaPct, "0.00")).Append(" |");
            sb.Append(' ').Append(Cell(r.BaselineP99TpotMs, r.CandidateP99TpotMs, r.P99TpotDeltaPct, "0.00")).Append(" |");
            sb.Append(' ').Append(Cell(r.BaselineOutputThroughput, r.CandidateOutputThroughput, r.OutputThroughputDeltaPct, "0.0")).Append(" |");
            sb.Append(' ').Append(Cell(r.BaselineTotalThroughput, r.CandidateTotalThroughput, r.TotalThroughputDeltaPct, "0.0")).Append(" |\n");
        }
        return sb.ToString();
    }

    private static string Cell(double off, double on, double delta, string format) =>
        $"{Number(off, format)} → {Number(on, format)} ({(double.IsNaN(delta) ? "n/a" : delta.ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + "%")})";

    private static string Number(double v, string format) => double.IsNaN(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);

    private readonly record struct Key(int Isl, int Osl, int Mc, double Rate);

    private static string Describe(Key k) =>
        $"ISL {k.Isl} OSL {k.Osl} MC {k.Mc}" + (double.IsPositiveInfinity(k.Rate) ? "" : $" rate {k.Rate.ToString("0.###", CultureInfo.InvariantCulture)}/s");

    private static (List<Key> Order, Dictionary<Key, FseBenchmarkResult> Map) Index(IEnumerable<FseBenchmarkResult> results, string side, List<string> warnings)
    {
        var map = new Dictionary<Key, FseBenchmarkResult>();
        var order = new List<Key>();
        foreach (var r in results)
        {
            var key = new Key(r.InputLength, r.OutputLength, r.MaxConcurrency, r.RequestRate);
            if (map.ContainsKey(key)) warnings.Add($"{Describe(key)}: more than one {side} result; the later one is used.");
            else order.Add(key);
            map[key] = r;
        }
        return (order, map);
    }
}
