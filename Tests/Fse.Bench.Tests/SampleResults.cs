namespace Fse.Bench.Tests;

/// <summary>Seeded, fully populated results for CSV, comparison and plot tests.</summary>
public static class SampleResults
{
    public static FseBenchmarkResult Random(Random rng, string? fse, int isl, int osl, int mc, double rate = double.PositiveInfinity)
    {
        double D(double scale) => Math.Round(rng.NextDouble() * scale, rng.Next(0, 12));
        var started = new DateTimeOffset(2026, 6, 11, rng.Next(0, 24), rng.Next(0, 60), rng.Next(0, 60), TimeSpan.FromHours(rng.Next(-5, 6))).AddTicks(rng.Next(0, 10_000_000));
        return new FseBenchmarkResult
        {
            Label = $"run-{rng.Next(100)}, \"quoted\"",
            Model = "qwen3-next-80b-a3b",
            Fse = fse,
            Device = "NVIDIA H100 80GB HBM3",
            Server = "http://127.0.0.1:8000",
            InputLength = isl,
            OutputLength = osl,
            MaxConcurrency = mc,
            RequestRate = rate,
            Burstiness = 1 + D(2),
            RangeRatio = D(0.9),
            Seed = rng.Next(),
            NumPrompts = mc * 10,
            WarmupRequests = rng.Next(0, 8),
            PromptMode = rng.Next(2) == 0 ? PromptMode.Text : PromptMode.TokenIds,
            Completed = rng.Next(1, 640),
            Failed = rng.Next(0, 3),
            DurationSeconds = D(300),
            TotalInputTokens = rng.NextInt64(1, 10_000_000),
            TotalOutputTokens = rng.NextInt64(1, 1_000_000),
            RequestThroughput = D(50),
            OutputThroughput = 100 + D(5000),
            TotalThroughput = 1000 + D(50000),
            PeakOutputThroughput = D(9000),
            PeakConcurrentRequests = rng.Next(1, 65),
            MeanTtftMs = D(900), MedianTtftMs = D(900), StdTtftMs = D(90), P99TtftMs = D(3000),
            MeanTpotMs = 5 + D(40), MedianTpotMs = D(40), StdTpotMs = D(4), P99TpotMs = 10 + D(80),
            MeanItlMs = D(40), MedianItlMs = D(40), StdItlMs = double.NaN, P99ItlMs = D(80),
            MeanE2elMs = D(30000), MedianE2elMs = D(30000), StdE2elMs = D(3000), P99E2elMs = D(60000),
            StartedAt = started,
            FinishedAt = started.AddSeconds(D(400)),
            Errors = rng.Next(2) == 0 ? "" : "2x HTTP 503: overloaded, retry\n1x the completion stream ended without [DONE].",
            Notes = "prompts sent as token ids; 3 output lengths re-tokenised",
        };
    }
}
