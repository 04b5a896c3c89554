namespace Fse.Bench.Tests;

public class BenchmarkComparerTests
{
    private static FseBenchmarkResult R(string fse, int isl, int osl, int mc, double tpot, double p99, double output, double total, double rate = double.PositiveInfinity) =>
        new() { Fse = fse, InputLength = isl, OutputLength = osl, MaxConcurrency = mc, RequestRate = rate, MeanTpotMs = tpot, P99TpotMs = p99, OutputThroughput = output, TotalThroughput = total };

    [Fact]
    public void PairsByGridPointAndComputesDeltasOfTheBaseline()
    {
        var off = new[] { R("Off", 1000, 100, 4, 20.0, 25.0, 400.0, 4400.0), R("Off", 1000, 100, 16, 30.0, 40.0, 1000.0, 11000.0) };
        var on = new[] { R("On", 1000, 100, 16, 27.0, 44.0, 1100.0, 12100.0), R("On", 1000, 100, 4, 18.0, 20.0, 440.0, 4840.0) };
        var set = BenchmarkComparer.Compare(off, on);
        Assert.Empty(set.Warnings);
        Assert.Equal([4, 16], set.Rows.Select(r => r.MaxConcurrency));   // the baseline's order
        var a = set.Rows[0];
        Assert.Equal(("Off", "On"), (a.Baseline, a.Candidate));
        Assert.Equal((20.0, 18.0, -10.0), (a.BaselineMeanTpotMs, a.CandidateMeanTpotMs, Math.Round(a.MeanTpotDeltaPct, 9)));
        Assert.Equal(-20.0, a.P99TpotDeltaPct, 9);
        Assert.Equal(10.0, a.OutputThroughputDeltaPct, 9);
        Assert.Equal(10.0, a.TotalThroughputDeltaPct, 9);
        Assert.Equal(10.0, set.Rows[1].P99TpotDeltaPct, 9);
    }

    [Fact]
    public void RendersTheSemanticsTable()
    {
        var set = BenchmarkComparer.Compare(
            [R("Off", 1000, 100, 4, 12.345, 20.0, 1234.56, 13580.16), R("Off", 5000, 500, 64, 40.0, 80.0, 900.0, 9900.0)],
            [R("On", 1000, 100, 4, 11.8, 19.0, 1290.0, 14190.0), R("On", 5000, 500, 64, 40.0, 84.0, 0.0, 0.0)]);
        var expected =
            "| ISL | OSL | MC | TPOT mean (ms) off → on (Δ) | TPOT p99 | Output tok/s off → on (Δ) | Total tok/s off → on (Δ) |\n" +
            "| ---: | ---: | ---: | --- | --- | --- | --- |\n" +
            "| 1000 | 100 | 4 | 12.35 → 11.80 (-4.4%) | 20.00 → 19.00 (-5.0%) | 1234.6 → 1290.0 (+4.5%) | 13580.2 → 14190.0 (+4.5%) |\n" +
            "| 5000 | 500 | 64 | 40.00 → 40.00 (0.0%) | 80.00 → 84.00 (+5.0%) | 900.0 → 0.0 (-100.0%) | 9900.0 → 0.0 (-100.0%) |\n";
        Assert.Equal(expected, BenchmarkComparer.ToMarkdown(set.Rows));
    }

    [Fact]
    public void AddsARateColumnWhenARateIsSetAndShowsMissingNumbersAsNa()
    {
        var set = BenchmarkComparer.Compare([R("Off", 10, 2, 1, double.NaN, double.NaN, 5, 50, rate: 2.5)], [R("On", 10, 2, 1, 3, 4, 5, 50, rate: 2.5)]);
        var lines = BenchmarkComparer.ToMarkdown(set.Rows).Split('\n');
        Assert.StartsWith("| ISL | OSL | MC | Rate | TPOT mean", lines[0]);
        Assert.Equal("| 10 | 2 | 1 | 2.5 | n/a → 3.00 (n/a) | n/a → 4.00 (n/a) | 5.0 → 5.0 (0.0%) | 50.0 → 50.0 (0.0%) |", lines[2]);
    }

    [Fact]
    public void WarnsAboutUnpairedAndDuplicatedGridPoints()
    {
        var set = BenchmarkComparer.Compare(
            [R("Off", 1000, 100, 4, 1, 1, 1, 1), R("Off", 1000, 100, 4, 2, 2, 2, 2), R("Off", 1000, 100, 16, 1, 1, 1, 1)],
            [R("On", 1000, 100, 4, 4, 4, 4, 4), R("On", 1000, 100, 64, 1, 1, 1, 1), R("On", 1000, 100, 4, 2, 2, 2, 8, rate: 3)]);
        var row = Assert.Single(set.Rows);
        Assert.Equal(2, row.BaselineMeanTpotMs);   // the later duplicate
        Assert.Equal(4, set.Warnings.Count);
        Assert.Contains(set.Warnings, w => w.Contains("MC 4") && w.Contains("more than one baseline"));
        Assert.Contains(set.Warnings, w => w.Contains("MC 16") && w.Contains("no candidate"));
        Assert.Contains(set.Warnings, w => w.Contains("MC 64") && w.Contains("no baseline"));
        Assert.Contains(set.Warnings, w => w.Contains("rate 3/s") && w.Contains("no baseline"));
    }
}
