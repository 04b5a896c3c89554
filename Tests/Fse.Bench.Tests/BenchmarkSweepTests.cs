using System.Diagnostics;

namespace Fse.Bench.Tests;

public class BenchmarkSweepTests
{
    private static readonly double Inf = double.PositiveInfinity;

    private static async Task<List<FseBenchmarkResult>> RunAsync(BenchServer server, BenchmarkSettings settings, BenchmarkServer? target = null, IProgress<BenchmarkProgress>? progress = null, CancellationToken ct = default)
    {
        using var client = server.Endpoint.Client();
        var results = new List<FseBenchmarkResult>();
        await foreach (var r in new BenchmarkSweep(client, target ?? server.Endpoint.Server(), settings).RunAsync(progress, ct)) results.Add(r);
        return results;
    }

    /// <summary>
    /// 8 requests under a cap of 4 against a server with 200 ms to the first token and 40 ms between tokens, 16
    /// tokens each: TTFT 200 ms, ITL = TPOT = 40 ms, E2EL 200 + 15·40 = 800 ms; the usage chunk comes 150 ms after the
    /// last token, so each of the two waves takes 950 ms of wall time.
    /// </summary>
    [Fact]
    public async Task MeasuresScriptedTimingWithinFivePercent()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(200),
            TokenGap = TimeSpan.FromMilliseconds(40),
            UsageDelay = TimeSpan.FromMilliseconds(150),   // must not count in E2EL (it does count in the wave's wall time)
        });
        var settings = new BenchmarkSettings
        {
            Grid = BenchmarkGrid.Build([64], [16], GridPairing.Zip, [4], [Inf], 8, null),
            WarmupRequests = 4,
            Seed = 3,
            Label = "timing",
        };
        FseBenchmarkResult? r = null;
        await WallClock.WithinAttemptsAsync(5, async check =>
        {
            while (server.Seen.TryDequeue(out _)) { }
            r = Assert.Single(await RunAsync(server, settings));
            check.Within("mean TTFT", 200, r.MeanTtftMs);
            check.Within("median TTFT", 200, r.MedianTtftMs);
            check.Within("mean ITL", 40, r.MeanItlMs);
            check.Within("median ITL", 40, r.MedianItlMs);
            check.Within("mean TPOT", 40, r.MeanTpotMs);
            check.Within("median TPOT", 40, r.MedianTpotMs);
            check.Within("mean E2EL", 800, r.MeanE2elMs);
            check.Within("median E2EL", 800, r.MedianE2elMs);
            double wave = 0.800 + 0.150;
            check.Within("request throughput", 8 / (2 * wave), r.RequestThroughput);
            check.Within("output throughput", 8 * 16 / (2 * wave), r.OutputThroughput);
            check.Within("total throughput", 8 * (64 + 16) / (2 * wave), r.TotalThroughput);
            check.InRange("peak output tok/s", r.PeakOutputThroughput, 64, 128);   // one wave's 64 tokens fall within 0.8 s
        });

        Assert.Equal(8, r!.Completed);
        Assert.Equal(0, r.Failed);
        Assert.Equal("", r.Errors);
        Assert.Equal(8 * 64, r.TotalInputTokens);
        Assert.Equal(8 * 16, r.TotalOutputTokens);
        Assert.Equal(4, r.PeakConcurrentRequests);
        Assert.Equal(8 + 4, server.Seen.Count);
        Assert.All(server.Seen, s => Assert.True(s.IgnoreEos && s.IncludeUsage && s.MaxTokens == 16 && s.Temperature == 0));
        Assert.Equal("timing", r.Label);
        Assert.Equal("scripted-moe", r.Model);
        Assert.Equal("On", r.Fse);
        Assert.Equal("cpu-scripted", r.Device);
        Assert.Equal(server.Endpoint.Endpoint.ToString(), r.Server);
        Assert.Equal((64, 16, 4, Inf, 8, 4, 3), (r.InputLength, r.OutputLength, r.MaxConcurrency, r.RequestRate, r.NumPrompts, r.WarmupRequests, r.Seed));
        Assert.True(r.FinishedAt > r.StartedAt);
    }

    [Fact]
    public async Task PromptsHaveExactLengthsThroughTheServersTokenizerAndUsageGivesTheTrueLength()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript
        {
            FirstTokenDelay = TimeSpan.Zero, TokenGap = TimeSpan.Zero, PromptTokenBonus = 1,   // the server adds a BOS
        });
        var settings = new BenchmarkSettings { Grid = BenchmarkGrid.Build([333], [3], GridPairing.Zip, [5], [Inf], 15, null), Seed = 99 };
        var r = Assert.Single(await RunAsync(server, settings));

        Assert.Equal(PromptMode.Text, r.PromptMode);
        var seen = server.Seen.ToArray();
        Assert.Equal(15, seen.Length);
        Assert.All(seen, s => { Assert.True(s.PromptWasText); Assert.Equal(333, s.PromptTokens); });
        Assert.Equal(15 * 334, r.TotalInputTokens);   // from usage.prompt_tokens, not from what was generated
        Assert.Contains("prompt tokens where 4995 were sent", r.Notes);
    }

    [Fact]
    public async Task WithoutTokenizeThePromptsAreTokenIdsAndTheResultSaysSo()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.Zero, TokenGap = TimeSpan.Zero, OfferTokenize = false });
        var settings = new BenchmarkSettings { Grid = BenchmarkGrid.Build([50], [4], GridPairing.Zip, [2], [Inf], 6, null), Seed = 1 };
        var r = Assert.Single(await RunAsync(server, settings));
        Assert.Equal(PromptMode.TokenIds, r.PromptMode);
        Assert.Contains("token ids", r.Notes);
        Assert.All(server.Seen, s => { Assert.False(s.PromptWasText); Assert.Equal(50, s.PromptTokens); });
        Assert.Equal(6 * 50, r.TotalInputTokens);
    }

    [Fact]
    public async Task FailedRequestsAreCountedAndTheirErrorsKept()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.Zero, TokenGap = TimeSpan.Zero, FailEvery = 3 });
        var settings = new BenchmarkSettings { Grid = BenchmarkGrid.Build([20], [5], GridPairing.Zip, [1], [Inf], 9, null) };
        var r = Assert.Single(await RunAsync(server, settings));
        Assert.Equal(6, r.Completed);
        Assert.Equal(3, r.Failed);
        var lines = r.Errors.Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.All(lines, l => Assert.Matches(@"^1x .*503.*scripted overload on request \d+", l));
        Assert.Equal(6 * 5, r.TotalOutputTokens);
    }

    [Fact]
    public async Task ServerFactsFallBackToTheHandleAndVocabularyToTheSetting()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.Zero, TokenGap = TimeSpan.Zero, Fse = null, Device = null, VocabSize = null });
        var settings = new BenchmarkSettings { Grid = BenchmarkGrid.Build([10], [2], GridPairing.Zip, [1], [Inf], 2, null) };
        var e = await Assert.ThrowsAsync<BenchmarkSetupException>(() => RunAsync(server, settings));
        Assert.Contains("vocab", e.Message, StringComparison.OrdinalIgnoreCase);

        var r = Assert.Single(await RunAsync(server, settings with { VocabSize = 500 }, server.Endpoint.Server(model: "/models/moe", fse: "off", device: "cuda:0")));
        Assert.Equal("Off", r.Fse);
        Assert.Equal("cuda:0", r.Device);
        Assert.Equal("scripted-moe", r.Model);   // the handle's path is not a served id: the served one is used
    }

    [Fact]
    public async Task ARequestRateSpreadsReleasesOverCountOverRate()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.Zero, TokenGap = TimeSpan.Zero });
        var settings = new BenchmarkSettings { Grid = BenchmarkGrid.Build([10], [2], GridPairing.Zip, [64], [20.0], 20, null), Seed = 8, Burstiness = 0.5, WarmupRequests = 2 };
        var expected = ArrivalSchedule.Build(20, 20.0, 0.5, 8);
        await WallClock.WithinAttemptsAsync(5, async check =>
        {
            while (server.Seen.TryDequeue(out _)) { }
            var r = Assert.Single(await RunAsync(server, settings));
            var arrivals = server.Seen.Skip(2).Select(s => s.ArrivedSeconds).Order().ToArray();
            Assert.Equal(20, arrivals.Length);
            for (int i = 1; i < arrivals.Length; i++)
                check.InRange($"release {i}", arrivals[i] - arrivals[0], expected[i] - expected[0] - 0.03, expected[i] - expected[0] + 0.03);
            check.InRange("duration", r.DurationSeconds, 1.0, 1.2);   // the last release at 20/20 s
            Assert.Equal((20.0, 0.5), (r.RequestRate, r.Burstiness));
        });
    }

    [Fact]
    public async Task ReportsProgressThroughEveryPhase()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.FromMilliseconds(100), TokenGap = TimeSpan.FromMilliseconds(50) });
        var settings = new BenchmarkSettings { Grid = BenchmarkGrid.Build([10], [10], GridPairing.Zip, [2, 4], [Inf], 4, null), WarmupRequests = 1 };
        var seen = new List<BenchmarkProgress>();
        var progress = new SynchronousProgress(p => { lock (seen) seen.Add(p); });
        var results = await RunAsync(server, settings, progress: progress);
        Assert.Equal(2, results.Count);
        lock (seen)
        {
            Assert.Equal([BenchmarkPhase.PreparingPrompts, BenchmarkPhase.WarmingUp, BenchmarkPhase.Running, BenchmarkPhase.Finished],
                seen.Where(p => p.PointIndex == 0).Select(p => p.Phase).Distinct());
            Assert.Contains(seen, p => p.Phase == BenchmarkPhase.Running && p.LiveOutputTokensPerSecond > 0);
            var last = seen.Last();
            Assert.Equal((1, 2, BenchmarkPhase.Finished, 4, 4), (last.PointIndex, last.PointCount, last.Phase, last.RequestsDone, last.RequestsTotal));
        }
    }

    [Fact]
    public async Task CancellingMidSweepKeepsEveryFinishedPointInTheOutFile()
    {
        await using var server = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.FromMilliseconds(50), TokenGap = TimeSpan.FromMilliseconds(20) });
        var file = Path.Combine(Path.GetTempPath(), $"fse-bench-{Guid.NewGuid():N}.csv");
        try
        {
            var settings = new BenchmarkSettings { Grid = BenchmarkGrid.Build([16], [8, 200], GridPairing.Cross, [2], [Inf], 4, null), OutFile = file };
            using var cts = new CancellationTokenSource();
            using var client = server.Endpoint.Client();
            var yielded = new List<FseBenchmarkResult>();
            var watch = Stopwatch.StartNew();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (var r in new BenchmarkSweep(client, server.Endpoint.Server(), settings).RunAsync(null, cts.Token))
                {
                    yielded.Add(r);
                    cts.CancelAfter(TimeSpan.FromMilliseconds(300));   // mid-way through the second point (2 waves of 4 s)
                }
            });
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"the stop took {watch.Elapsed}");
            var finished = Assert.Single(yielded);
            var written = FseBenchmarkCsv.Read(file);
            var row = Assert.Single(written);
            Assert.Equal((16, 8, 4), (row.InputLength, row.OutputLength, row.Completed));
            Assert.Equal(finished.MeanTpotMs, row.MeanTpotMs);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public async Task TheSameSeedSendsTheSamePromptsToEachServer()
    {
        await using var off = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.Zero, TokenGap = TimeSpan.Zero, Fse = "off", OfferTokenize = false });
        await using var on = await BenchServer.StartAsync(new BenchServerScript { FirstTokenDelay = TimeSpan.Zero, TokenGap = TimeSpan.Zero, Fse = "on", OfferTokenize = false });
        var settings = new BenchmarkSettings { Grid = BenchmarkGrid.Build([40], [2], GridPairing.Zip, [1], [Inf], 5, null), Seed = 17, RangeRatio = 0.3 };
        var a = Assert.Single(await RunAsync(off, settings));
        var b = Assert.Single(await RunAsync(on, settings));
        Assert.Equal(("Off", "On"), (a.Fse, b.Fse));
        Assert.Equal(off.Seen.Select(s => s.PromptTokens), on.Seen.Select(s => s.PromptTokens));
        Assert.Equal(off.Seen.Select(s => s.MaxTokens), on.Seen.Select(s => s.MaxTokens));
        Assert.True(off.Seen.Select(s => s.PromptTokens).Distinct().Count() > 1, "range ratio 0.3 varies the lengths");
    }

    private sealed class SynchronousProgress(Action<BenchmarkProgress> report) : IProgress<BenchmarkProgress>
    {
        public void Report(BenchmarkProgress value) => report(value);
    }
}
