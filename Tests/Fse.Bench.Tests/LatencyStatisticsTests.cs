namespace Fse.Bench.Tests;

public class LatencyStatisticsTests
{
    [Fact]
    public void MatchesNumpyOnKnownValues()
    {
        // np.mean, np.median, np.std (ddof=0) and np.percentile(x, 99) of [1, 2, 3, 4] seconds, in ms.
        var s = LatencyStatistics.FromSeconds([0.004, 0.001, 0.003, 0.002]);
        Assert.Equal(2.5, s.MeanMs, 9);
        Assert.Equal(2.5, s.MedianMs, 9);
        Assert.Equal(1.118033988749895, s.StdMs, 9);   // population std; the sample std would be 1.2910
        Assert.Equal(3.97, s.P99Ms, 9);                 // 3 + 0.97·(4 − 3)
    }

    [Theory]
    [InlineData(new double[] { 15, 20, 35, 40, 50 }, 40, 29)]   // rank 1.6 → 20 + 0.6·15
    [InlineData(new double[] { 15, 20, 35, 40, 50 }, 50, 35)]
    [InlineData(new double[] { 3, 1, 4, 1 }, 50, 2)]
    [InlineData(new double[] { 7 }, 99, 7)]
    [InlineData(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 99, 9.91)]
    public void PercentilesInterpolateLinearlyBetweenClosestRanks(double[] data, double p, double expected) =>
        Assert.Equal(expected, LatencyStatistics.Percentile(data, p), 9);

    [Fact]
    public void AgreesWithTheDefinitionOnRandomData()
    {
        var rng = new Random(20260611);
        for (int trial = 0; trial < 50; trial++)
        {
            var data = Enumerable.Range(0, rng.Next(1, 300)).Select(_ => rng.NextDouble() * rng.Next(1, 1000)).ToArray();
            var s = LatencyStatistics.FromSeconds(data);
            var ms = data.Select(d => d * 1000).ToArray();
            double mean = ms.Average();
            Assert.Equal(mean, s.MeanMs, 6);
            Assert.Equal(Math.Sqrt(ms.Sum(x => (x - mean) * (x - mean)) / ms.Length), s.StdMs, 6);
            Assert.Equal(Reference(ms, 50), s.MedianMs, 6);
            Assert.Equal(Reference(ms, 99), s.P99Ms, 6);
        }

        static double Reference(double[] x, double p)
        {
            var sorted = x.Order().ToArray();
            double rank = p / 100 * (sorted.Length - 1);
            int lo = (int)Math.Floor(rank), hi = Math.Min(lo + 1, sorted.Length - 1);
            return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
        }
    }

    [Fact]
    public void AnEmptySeriesIsNotANumberRatherThanAFalseZero()
    {
        var s = LatencyStatistics.FromSeconds([]);
        Assert.True(double.IsNaN(s.MeanMs) && double.IsNaN(s.MedianMs) && double.IsNaN(s.StdMs) && double.IsNaN(s.P99Ms));
    }
}
