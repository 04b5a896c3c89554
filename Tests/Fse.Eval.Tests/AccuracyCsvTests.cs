namespace Fse.Eval.Tests;

public sealed class AccuracyCsvTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fse-acc-csv-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void ResultsAndItemsRoundTripAndAreToldApartByHeader()
    {
        var rng = new Random(12);
        var results = new[] { "strict-match", "flexible-extract" }.Select(f => new FseAccuracyResult
        {
            Task = "gsm8k", Filter = f, Score = rng.NextDouble(), Stderr = rng.NextDouble() / 10, N = 20, Invalid = 2, Failed = 0, Total = 20,
            Fse = "On", Model = "tiny", StartedAt = DateTimeOffset.Parse("2026-11-26T10:00:00.1234567+00:00"), DurationSeconds = 1.5,
        }).ToArray();
        var items = Enumerable.Range(0, 5).Select(i => new FseAccuracyItem
        {
            Task = "gsm8k", Index = i, Filter = "strict-match", PromptSha256 = new string('a', 64), Reference = "#### 7",
            ReferenceNormalised = "7", Response = i % 2 == 0 ? " 7\n, #### 7" : null, Correct = i % 2 == 0, Fse = "Off",
        }).ToArray();
        var r = Path.Combine(_dir, "results.csv");
        var it = Path.Combine(_dir, "items.csv");
        FseAccuracyCsv.Results.Write(r, results, append: false);
        FseAccuracyCsv.Items.Write(it, items.Take(2), append: false);
        FseAccuracyCsv.Items.Write(it, items.Skip(2), append: true);
        Assert.Equal(results, FseAccuracyCsv.Results.Read(r));
        Assert.Equal(items, FseAccuracyCsv.Items.Read(it));
        Assert.True(FseAccuracyCsv.Results.MatchesHeader(Fse.Records.ResultCsv<FseAccuracyResult>.ReadHeader(r).ToArray()));
        Assert.False(FseAccuracyCsv.Items.MatchesHeader(Fse.Records.ResultCsv<FseAccuracyResult>.ReadHeader(r).ToArray()));
        Assert.Throws<InvalidDataException>(() => FseAccuracyCsv.Results.Write(it, results, append: true));
    }
}
