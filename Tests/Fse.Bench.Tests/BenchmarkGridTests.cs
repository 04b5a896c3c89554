namespace Fse.Bench.Tests;

public class BenchmarkGridTests
{
    private static readonly double[] Inf = [double.PositiveInfinity];

    [Fact]
    public void ZipPairsLengthsInOrderThenRatesThenConcurrencies()
    {
        var g = BenchmarkGrid.Build([1000, 5000], [100, 500], GridPairing.Zip, [4, 16], [2.0, double.PositiveInfinity], null, 10);
        Assert.Equal(8, g.Count);
        Assert.Equal(new BenchmarkGridPoint(1000, 100, 4, 2.0, 40), g[0]);
        Assert.Equal(new BenchmarkGridPoint(1000, 100, 16, 2.0, 160), g[1]);
        Assert.Equal(new BenchmarkGridPoint(1000, 100, 4, double.PositiveInfinity, 40), g[2]);
        Assert.Equal(new BenchmarkGridPoint(5000, 500, 16, double.PositiveInfinity, 160), g[7]);
    }

    [Fact]
    public void CrossTakesEveryCombinationAndAFixedPromptCount()
    {
        var g = BenchmarkGrid.Build([1000, 5000], [100, 500], GridPairing.Cross, [8], Inf, 33, null);
        Assert.Equal([(1000, 100), (1000, 500), (5000, 100), (5000, 500)], g.Select(p => (p.InputLength, p.OutputLength)));
        Assert.All(g, p => Assert.Equal(33, p.NumPrompts));
    }

    [Fact]
    public void ZipBroadcastsASingleValue() =>
        Assert.Equal([(1000, 100), (1000, 500), (1000, 900)],
            BenchmarkGrid.Build([1000], [100, 500, 900], GridPairing.Zip, [1], Inf, 1, null).Select(p => (p.InputLength, p.OutputLength)));

    [Fact]
    public void ZipRejectsListsOfDifferentLengths()
    {
        var e = Assert.Throws<ArgumentException>(() => BenchmarkGrid.Build([1, 2], [1, 2, 3], GridPairing.Zip, [1], Inf, 1, null));
        Assert.Contains("Cross", e.Message);
    }

    [Fact]
    public void NeedsExactlyOnePromptCountRule()
    {
        Assert.Throws<ArgumentException>(() => BenchmarkGrid.Build([1], [1], GridPairing.Zip, [1], Inf, 5, 5));
        Assert.Throws<ArgumentException>(() => BenchmarkGrid.Build([1], [1], GridPairing.Zip, [1], Inf, null, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => BenchmarkGrid.Build([0], [1], GridPairing.Zip, [1], Inf, 5, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => BenchmarkGrid.Build([1], [1], GridPairing.Zip, [1], [0.0], 5, null));
    }
}
