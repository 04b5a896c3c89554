using Fse.Eval.Comparison;

namespace Fse.Eval.Tests;

public class AccuracyComparisonTests
{
    private static FseAccuracyResult Result(string filter, double score, double stderr, int n, string fse) => new()
    {
        Task = "gsm8k", Filter = filter, Score = score, Stderr = stderr, N = n, Invalid = 0, Failed = 0, Total = n, Model = "tiny", Fse = fse,
    };

    private static IEnumerable<FseAccuracyItem> Items(string filter, string fse, IReadOnlyList<bool> correct, Func<int, string>? sha = null) =>
        correct.Select((c, i) => new FseAccuracyItem
        {
            Task = "gsm8k", Index = i, Filter = filter, PromptSha256 = sha?.Invoke(i) ?? $"h{i}", Reference = "#### 1", ReferenceNormalised = "1",
            Correct = c, Fse = fse,
        });

    [Fact]
    public void RendersTheStudysTable()
    {
        var off = new[] { Result("strict-match", 0.7520, 0.0119, 1319, "off"), Result("flexible-extract", 0.76497, 0.01168, 1319, "off") };
        var on = new[] { Result("flexible-extract", 0.7657, 0.0117, 1319, "on"), Result("strict-match", 0.75214, 0.01189, 1319, "on") };
        var cmp = AccuracyComparison.Compare(off, on);
        Assert.Equal(
            "| Config | flexible-extract | strict-match |\n" +
            "| --- | --- | --- |\n" +
            "| FSE off | 0.7650 ± 0.0117 | 0.7520 ± 0.0119 |\n" +
            "| FSE on | 0.7657 ± 0.0117 | 0.7521 ± 0.0119 |\n",
            cmp.ToMarkdown());
        Assert.All(cmp.Rows, r => Assert.Null(r.PValue));
        Assert.Equal(0.7657 - 0.76497, cmp.Rows.Single(r => r.Filter == "flexible-extract").Delta, 12);
    }

    [Fact]
    public void McNemarRunsOnPairedItems()
    {
        // 30 items: 20 agree, baseline-only right on 1, candidate-only right on 9 → exact test, p = 22/1024.
        var rng = new Random(99);
        var baseline = new bool[30];
        var candidate = new bool[30];
        for (int i = 0; i < 20; i++) baseline[i] = candidate[i] = rng.NextDouble() < 0.6;
        baseline[20] = true;
        for (int i = 21; i < 30; i++) candidate[i] = true;
        double Score(bool[] x) => x.Count(c => c) / 30.0;
        var cmp = AccuracyComparison.Compare(
            [Result("strict-match", Score(baseline), 0.08, 30, "off")], [Result("strict-match", Score(candidate), 0.08, 30, "on")],
            Items("strict-match", "off", baseline), Items("strict-match", "on", candidate));
        var row = Assert.Single(cmp.Rows);
        Assert.Equal((30, 1, 9, "exact binomial", true), (row.PairedN, row.BaselineOnlyCorrect, row.CandidateOnlyCorrect, row.Test, row.Significant));
        Assert.Equal(22.0 / 1024, row.PValue!.Value, 12);
        var md = cmp.ToMarkdown();
        Assert.Contains("| strict-match | +0.2667 | 30 | 1 | 9 | 0.0215 (significant at 0.05) | exact binomial |", md);
    }

    [Fact]
    public void LargeDiscordanceUsesChiSquare()
    {
        var baseline = Enumerable.Range(0, 100).Select(i => i < 40).ToList();            // right on 0..39
        var candidate = Enumerable.Range(0, 100).Select(i => i >= 20 && i < 80).ToList(); // right on 20..79
        var cmp = AccuracyComparison.Compare(
            [Result("flexible-extract", 0.4, 0.05, 100, "off")], [Result("flexible-extract", 0.6, 0.05, 100, "on")],
            Items("flexible-extract", "off", baseline), Items("flexible-extract", "on", candidate));
        var row = Assert.Single(cmp.Rows);
        Assert.Equal((20, 40, "chi-square (continuity-corrected)"), (row.BaselineOnlyCorrect!.Value, row.CandidateOnlyCorrect!.Value, row.Test));
        Assert.Equal(0.01417138825401233, row.PValue!.Value, 12);
    }

    [Fact]
    public void FailedItemsAreLeftOutOfThePairs()
    {
        var b = Items("strict-match", "off", [true, true, false]).ToList();
        var c = Items("strict-match", "on", [false, true, true]).ToList();
        c[0] = c[0] with { Failed = true };
        var row = AccuracyComparison.Compare([Result("strict-match", 0.66, 0.3, 3, "off")], [Result("strict-match", 1, 0, 2, "on")], b, c).Rows.Single();
        Assert.Equal((2, 0, 1), (row.PairedN!.Value, row.BaselineOnlyCorrect!.Value, row.CandidateOnlyCorrect!.Value));
    }

    [Fact]
    public void RefusesAmbiguousOrMismatchedInputs()
    {
        var r = Result("strict-match", 0.5, 0.1, 10, "off");
        Assert.Contains("more than one", Assert.Throws<ArgumentException>(() => AccuracyComparison.Compare([r, r], [r])).Message);
        Assert.Contains("share no task", Assert.Throws<ArgumentException>(() =>
            AccuracyComparison.Compare([r], [r with { Filter = "flexible-extract" }])).Message);
        var e = Assert.Throws<ArgumentException>(() => AccuracyComparison.Compare([r], [r with { Fse = "on" }],
            Items("strict-match", "off", [true, false]), Items("strict-match", "on", [true, false], i => $"other{i}")));
        Assert.Contains("different prompts", e.Message);
    }

    [Fact]
    public void LabelsFallBackToModelAndStayDistinct()
    {
        var b = Result("strict-match", 0.5, 0.1, 10, "") with { Fse = null, Model = "m" };
        var cmp = AccuracyComparison.Compare([b], [b]);
        Assert.StartsWith("| Config | strict-match |\n| --- | --- |\n| m (baseline) | 0.5000 ± 0.1000 |\n| m (candidate) |", cmp.ToMarkdown());
        var named = AccuracyComparison.Compare([b], [b with { Score = double.NaN }], baselineLabel: "vLLM", candidateLabel: "fse-server");
        Assert.Contains("| fse-server | n/a ± 0.1000 |", named.ToMarkdown());
    }
}
