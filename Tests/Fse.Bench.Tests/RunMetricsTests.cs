namespace Fse.Bench.Tests;

public class RunMetricsTests
{
    private static RequestOutcome Ok(double start, double ttft, double[] itl, int output, int prompt = 100) => new()
    {
        Success = true,
        StartSeconds = start,
        TtftSeconds = ttft,
        ItlSeconds = itl,
        LatencySeconds = ttft + itl.Sum(),
        OutputTokens = output,
        PromptTokens = prompt,
    };

    private static RequestOutcome Fail(string error) => new() { Success = false, StartSeconds = 0, PromptTokens = 100, Error = error };

    [Fact]
    public void TpotIsAPerRequestMeanOnlyOverRequestsWithMoreThanOneOutputToken()
    {
        var outcomes = new[]
        {
            Ok(0, 0.100, [0.010, 0.030], 3),   // TPOT (0.14 − 0.10) / 2 = 20 ms
            Ok(0, 0.200, [0.040], 2),          // TPOT 40 ms
            Ok(0, 0.300, [], 1),               // one token: no TPOT, but TTFT and E2EL count
        };
        var m = RunMetrics.Compute(outcomes, 1.0);
        Assert.Equal(30.0, m.Tpot.MeanMs, 9);
        Assert.Equal(200.0, m.Ttft.MeanMs, 9);
        Assert.Equal((140.0 + 240.0 + 300.0) / 3, m.E2el.MeanMs, 9);
    }

    [Fact]
    public void ItlIsPooledOverAllGapsNotAveragedPerRequest()
    {
        var outcomes = new[] { Ok(0, 0.1, [0.010, 0.010, 0.010], 4), Ok(0, 0.1, [0.050], 2) };
        var m = RunMetrics.Compute(outcomes, 1.0);
        Assert.Equal((10 + 10 + 10 + 50) / 4.0, m.Itl.MeanMs, 9);          // pooled: 20 ms (per-request means would give 30)
        Assert.Equal(10.0, m.Itl.MedianMs, 9);
        Assert.Equal(48.8, m.Itl.P99Ms, 9);                                 // rank 2.97 of [10 10 10 50] → 10 + 0.97·40
    }

    [Fact]
    public void FailedRequestsAreCountedWithTheirErrorsAndLeftOutOfLatenciesAndTokens()
    {
        var outcomes = new[]
        {
            Ok(0, 0.1, [0.02], 2, prompt: 50),
            Fail("HTTP 503: overloaded"),
            Fail("HTTP 503: overloaded"),
            Fail("no [DONE]"),
        };
        var m = RunMetrics.Compute(outcomes, 2.0);
        Assert.Equal(1, m.Completed);
        Assert.Equal(3, m.Failed);
        Assert.Equal([("HTTP 503: overloaded", 2), ("no [DONE]", 1)], m.Errors);
        Assert.Equal(50, m.TotalInputTokens);
        Assert.Equal(2, m.TotalOutputTokens);
        Assert.Equal(0.5, m.RequestThroughput, 9);
        Assert.Equal(1.0, m.OutputThroughput, 9);
        Assert.Equal(26.0, m.TotalThroughput, 9);
        Assert.Equal(100.0, m.Ttft.MeanMs, 9);
    }

    [Fact]
    public void ThroughputsAreOverTheRunDurationAndSeeded()
    {
        var rng = new Random(7);
        var outcomes = Enumerable.Range(0, 40).Select(i =>
        {
            int n = rng.Next(2, 30);
            return Ok(rng.NextDouble(), 0.05 + rng.NextDouble() / 10, [.. Enumerable.Range(0, n - 1).Select(_ => 0.005 + rng.NextDouble() / 50)], n, rng.Next(10, 2000));
        }).ToArray();
        double duration = 3.7;
        var m = RunMetrics.Compute(outcomes, duration);
        long input = outcomes.Sum(o => (long)o.PromptTokens), output = outcomes.Sum(o => (long)o.OutputTokens);
        Assert.Equal(40 / duration, m.RequestThroughput, 9);
        Assert.Equal(output / duration, m.OutputThroughput, 9);
        Assert.Equal((input + output) / duration, m.TotalThroughput, 9);
        Assert.Equal(outcomes.SelectMany(o => o.ItlSeconds).Count(), outcomes.Sum(o => o.OutputTokens - 1));
    }

    [Fact]
    public void PeakOutputRateCountsTokensInOneSecondBucketsAndPeakConcurrencyIsHalfOpen()
    {
        var outcomes = new[]
        {
            Ok(0.0, 0.1, [0.1, 0.1, 0.1], 4),            // tokens at 0.1 0.2 0.3 0.4 → bucket 0; ends 0.4
            Ok(0.4, 0.2, [0.5, 0.5], 3),                  // starts when the first ends; tokens at 0.6 1.1 1.6
            Ok(0.5, 0.1, [0.1], 2),                       // tokens at 0.6 0.7; overlaps the second
        };
        var m = RunMetrics.Compute(outcomes, 2.0);
        Assert.Equal(7, m.PeakOutputThroughput);         // bucket 0: 4 + 1 + 2
        Assert.Equal(2, m.PeakConcurrentRequests);       // [0,0.4) and [0.4,1.6) do not overlap
    }
}
