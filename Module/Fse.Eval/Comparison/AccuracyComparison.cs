using System.Globalization;
using System.Text;
using Fse.Eval.Statistics;

namespace Fse.Eval.Comparison;

/// <summary>
/// Pairs two runs' accuracy results (e.g. FSE off as baseline, FSE on as candidate) by task and filter, tests the
/// difference on paired items with McNemar's test when per-item records are given, and renders the study's table:
/// <c>| Config | flexible-extract | strict-match |</c>, one row per configuration, <c>0.xxxx ± 0.xxxx</c>.
/// </summary>
public sealed class AccuracyComparison
{
    private AccuracyComparison(IReadOnlyList<AccuracyComparisonRow> rows, double alpha)
    {
        Rows = rows;
        Alpha = alpha;
    }

    public IReadOnlyList<AccuracyComparisonRow> Rows { get; }

    /// <summary>The significance level that set <see cref="AccuracyComparisonRow.Significant"/>.</summary>
    public double Alpha { get; }

    /// <param name="baselineLabel">The baseline's row label; by default "FSE off"/"FSE on" from the results' Fse field, else the model, else "baseline".</param>
    /// <exception cref="ArgumentException">A side has two results for one task and filter, the two sides share no task and filter, or paired items were asked different prompts.</exception>
    public static AccuracyComparison Compare(
        IEnumerable<FseAccuracyResult> baselineResults,
        IEnumerable<FseAccuracyResult> candidateResults,
        IEnumerable<FseAccuracyItem>? baselineItems = null,
        IEnumerable<FseAccuracyItem>? candidateItems = null,
        double alpha = 0.05,
        string? baselineLabel = null,
        string? candidateLabel = null)
    {
        var baseline = Index(baselineResults, "baseline");
        var candidate = Index(candidateResults, "candidate");
        var keys = baseline.Keys.Intersect(candidate.Keys).Order().ToList();
        if (keys.Count == 0)
            throw new ArgumentException("The baseline and candidate results share no task and filter, so there is nothing to compare.");
        var bItems = baselineItems is null ? null : ItemIndex(baselineItems, "baseline");
        var cItems = candidateItems is null ? null : ItemIndex(candidateItems, "candidate");

        var rows = new List<AccuracyComparisonRow>();
        foreach (var key in keys)
        {
            var b = baseline[key];
            var c = candidate[key];
            var (bLabel, cLabel) = Labels(b, c, baselineLabel, candidateLabel);
            var row = new AccuracyComparisonRow
            {
                Task = key.Task, Filter = key.Filter, BaselineConfig = bLabel, CandidateConfig = cLabel,
                BaselineScore = b.Score, BaselineStderr = b.Stderr, BaselineN = b.N,
                CandidateScore = c.Score, CandidateStderr = c.Stderr, CandidateN = c.N,
            };
            if (bItems is not null && cItems is not null && bItems.TryGetValue(key, out var bi) && cItems.TryGetValue(key, out var ci))
            {
                int paired = 0, onlyB = 0, onlyC = 0;
                foreach (var (index, x) in bi)
                {
                    if (!ci.TryGetValue(index, out var y) || x.Failed || y.Failed) continue;
                    if (!string.Equals(x.PromptSha256, y.PromptSha256, StringComparison.OrdinalIgnoreCase))
                        throw new ArgumentException($"{key.Task} item {index} was asked different prompts in the two runs (SHA-256 {x.PromptSha256} vs {y.PromptSha256}): the runs used different data, few-shot count or seed, so their items do not pair.");
                    paired++;
                    if (x.Correct && !y.Correct) onlyB++;
                    else if (!x.Correct && y.Correct) onlyC++;
                }
                var test = McNemarTest.Compute(onlyB, onlyC);
                row = row with
                {
                    PairedN = paired, BaselineOnlyCorrect = onlyB, CandidateOnlyCorrect = onlyC,
                    PValue = test.PValue, Test = test.MethodName, Significant = test.PValue < alpha,
                };
            }
            rows.Add(row);
        }
        return new AccuracyComparison(rows, alpha);
    }

    /// <summary>
    /// The study's table per task (<c>| Config | flexible-extract | strict-match |</c>, filters in ordinal order, one
    /// row per configuration), and, where McNemar's test ran, a second table with its counts and p-values.
    /// </summary>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        var tasks = Rows.Select(r => r.Task).Distinct().ToList();
        foreach (var task in tasks)
        {
            var rows = Rows.Where(r => r.Task == task).OrderBy(r => r.Filter, StringComparer.Ordinal).ToList();
            if (sb.Length > 0) sb.Append('\n');
            if (tasks.Count > 1) sb.Append(task).Append("\n\n");
            sb.Append("| Config | ").AppendJoin(" | ", rows.Select(r => r.Filter)).Append(" |\n");
            sb.Append("| --- |").Append(string.Concat(rows.Select(_ => " --- |"))).Append('\n');
            sb.Append("| ").Append(rows[0].BaselineConfig).Append(" | ")
              .AppendJoin(" | ", rows.Select(r => ScoreText(r.BaselineScore, r.BaselineStderr))).Append(" |\n");
            sb.Append("| ").Append(rows[0].CandidateConfig).Append(" | ")
              .AppendJoin(" | ", rows.Select(r => ScoreText(r.CandidateScore, r.CandidateStderr))).Append(" |\n");
            var tested = rows.Where(r => r.PValue is not null).ToList();
            if (tested.Count > 0)
            {
                sb.Append('\n');
                sb.Append(CultureInfo.InvariantCulture, $"| Filter | Δ ({rows[0].CandidateConfig} − {rows[0].BaselineConfig}) | Paired | {rows[0].BaselineConfig} only | {rows[0].CandidateConfig} only | McNemar p | Test |\n");
                sb.Append("| --- | --- | --- | --- | --- | --- | --- |\n");
                foreach (var r in tested)
                {
                    var verdict = r.Significant == true ? string.Create(CultureInfo.InvariantCulture, $" (significant at {Alpha:0.##})") : "";
                    sb.Append(CultureInfo.InvariantCulture,
                        $"| {r.Filter} | {Signed(r.Delta)} | {r.PairedN} | {r.BaselineOnlyCorrect} | {r.CandidateOnlyCorrect} | {r.PValue:0.0000}{verdict} | {r.Test} |\n");
                }
            }
        }
        return sb.ToString();
    }

    public override string ToString() => ToMarkdown();

    /// <summary>"0.xxxx ± 0.xxxx"; "n/a" for a NaN.</summary>
    public static string ScoreText(double score, double stderr) =>
        $"{Number(score)} ± {Number(stderr)}";

    /// <summary>A configuration's label: "FSE on"/"FSE off" when the server reported its mode, else the model.</summary>
    public static string ConfigLabel(FseAccuracyResult r) =>
        r.Fse is { Length: > 0 } fse ? $"FSE {fse}" : r.Model ?? "unknown";

    private static (string, string) Labels(FseAccuracyResult b, FseAccuracyResult c, string? baselineLabel, string? candidateLabel)
    {
        // PowerShell passes $null for a string argument as "": an empty label means "not given".
        baselineLabel = string.IsNullOrEmpty(baselineLabel) ? null : baselineLabel;
        candidateLabel = string.IsNullOrEmpty(candidateLabel) ? null : candidateLabel;
        var bl = baselineLabel ?? ConfigLabel(b);
        var cl = candidateLabel ?? ConfigLabel(c);
        if (bl == cl)
        {
            bl = baselineLabel ?? $"{bl} (baseline)";
            cl = candidateLabel ?? $"{cl} (candidate)";
        }
        return (bl, cl);
    }

    private static string Number(double x) => double.IsNaN(x) ? "n/a" : x.ToString("0.0000", CultureInfo.InvariantCulture);

    private static string Signed(double x) => double.IsNaN(x) ? "n/a" : x.ToString("+0.0000;-0.0000;0.0000", CultureInfo.InvariantCulture);

    private readonly record struct Key(string Task, string Filter) : IComparable<Key>
    {
        public int CompareTo(Key other)
        {
            int t = string.CompareOrdinal(Task, other.Task);
            return t != 0 ? t : string.CompareOrdinal(Filter, other.Filter);
        }
    }

    private static Dictionary<Key, FseAccuracyResult> Index(IEnumerable<FseAccuracyResult> results, string side)
    {
        var map = new Dictionary<Key, FseAccuracyResult>();
        foreach (var r in results)
            if (!map.TryAdd(new Key(r.Task, r.Filter), r))
                throw new ArgumentException($"The {side} has more than one result for {r.Task} / {r.Filter}; compare one run against one run.");
        return map;
    }

    private static Dictionary<Key, Dictionary<int, FseAccuracyItem>> ItemIndex(IEnumerable<FseAccuracyItem> items, string side)
    {
        var map = new Dictionary<Key, Dictionary<int, FseAccuracyItem>>();
        foreach (var i in items)
        {
            var key = new Key(i.Task, i.Filter);
            if (!map.TryGetValue(key, out var byIndex)) map[key] = byIndex = [];
            if (!byIndex.TryAdd(i.Index, i))
                throw new ArgumentException($"The {side} items hold {i.Task} / {i.Filter} item {i.Index} twice; give the items of one run.");
        }
        return map;
    }
}
