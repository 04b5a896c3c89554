namespace Fse.Bench.Tests;

public class ArrivalScheduleTests
{
    [Fact]
    public void AnInfiniteRateReleasesEverythingAtOnce() =>
        Assert.All(ArrivalSchedule.Build(50, double.PositiveInfinity, 1.0, 3), d => Assert.Equal(0.0, d));

    [Fact]
    public void TheSameSeedGivesTheSameScheduleAndAnotherSeedAnother()
    {
        var a = ArrivalSchedule.Build(200, 5.0, 1.0, 42);
        var b = ArrivalSchedule.Build(200, 5.0, 1.0, 42);
        var c = ArrivalSchedule.Build(200, 5.0, 1.0, 43);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Theory]
    [InlineData(4.0, 1.0)]
    [InlineData(12.5, 0.25)]
    [InlineData(0.5, 4.0)]
    public void TheLastReleaseIsRescaledToCountOverRate(double rate, double burstiness)
    {
        var d = ArrivalSchedule.Build(300, rate, burstiness, 11);
        Assert.Equal(300 / rate, d[^1], 9);
        for (int i = 1; i < d.Length; i++) Assert.True(d[i] >= d[i - 1]);
    }

    /// <summary>Gamma gaps with shape k have a coefficient of variation of 1/√k: 1 for Poisson, burstier below 1, more even above.</summary>
    [Theory]
    [InlineData(1.0)]
    [InlineData(0.25)]
    [InlineData(4.0)]
    public void GapsFollowAGammaDistributionWithShapeBurstiness(double burstiness)
    {
        var d = ArrivalSchedule.Build(40_000, 10.0, burstiness, 20260611);
        var gaps = new double[d.Length];
        gaps[0] = d[0];
        for (int i = 1; i < d.Length; i++) gaps[i] = d[i] - d[i - 1];
        double mean = gaps.Average();
        double cv = Math.Sqrt(gaps.Sum(g => (g - mean) * (g - mean)) / gaps.Length) / mean;
        Assert.Equal(0.1, mean, 3);
        Assert.InRange(cv, 0.95 / Math.Sqrt(burstiness), 1.05 / Math.Sqrt(burstiness));
    }

    [Fact]
    public void InfiniteBurstinessGivesEvenGaps()
    {
        var d = ArrivalSchedule.Build(10, 4.0, double.PositiveInfinity, 1);
        for (int i = 0; i < d.Length; i++) Assert.Equal((i + 1) * 0.25, d[i], 9);
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(-1.0, 1.0)]
    [InlineData(1.0, 0.0)]
    public void RejectsNonPositiveRatesAndBurstiness(double rate, double burstiness) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ArrivalSchedule.Build(5, rate, burstiness, 0));
}
