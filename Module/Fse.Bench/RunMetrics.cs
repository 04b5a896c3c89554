namespace Fse.Bench;

/// <summary>
/// The aggregates of one run over its request outcomes and wall-clock duration (vLLM's <c>calculate_metrics</c>):
/// throughputs over the whole run, latency statistics over completed requests, TPOT only where output_len &gt; 1
/// (a per-request mean), ITL pooled over all requests, and the peak output rate in one-second buckets.
/// </summary>
public sealed record RunMetrics
{
    public required int Completed { get; init; }
    public required int Failed { get; init; }
    public required double DurationSeconds { get; init; }
    public required long TotalInputTokens { get; init; }
    public required long TotalOutputTokens { get; init; }
    public required double RequestThroughput { get; init; }
    public required double OutputThroughput { get; init; }
    public required double TotalThroughput { get; init; }
    public required LatencyStatistics Ttft { get; init; }
    public required LatencyStatistics Tpot { get; init; }
    public required LatencyStatistics Itl { get; init; }
    public required LatencyStatistics E2el { get; init; }

    /// <summary>The most choice-bearing chunks (tokens, when each chunk carries one) that arrived in one second of the run.</summary>
    public required double PeakOutputThroughput { get; init; }

    /// <summary>The most completed requests in flight at one instant.</summary>
    public required int PeakConcurrentRequests { get; init; }

    /// <summary>Failure messages with how often each occurred, most frequent first.</summary>
    public required IReadOnlyList<(string Message, int Count)> Errors { get; init; }

    public static RunMetrics Compute(IReadOnlyList<RequestOutcome> outcomes, double durationSeconds)
    {
        if (!(durationSeconds > 0)) throw new ArgumentOutOfRangeException(nameof(durationSeconds), durationSeconds, "A run lasts a positive time.");
        var ok = outcomes.Where(o => o.Success).ToList();
        var tpots = new List<double>();
        var itls = new List<double>();
        long input = 0, output = 0;
        foreach (var o in ok)
        {
            input += o.PromptTokens;
            output += o.OutputTokens;
            if (o.OutputTokens > 1) tpots.Add((o.LatencySeconds - o.TtftSeconds) / (o.OutputTokens - 1));
            itls.AddRange(o.ItlSeconds);
        }
        var errors = outcomes.Where(o => !o.Success)
            .GroupBy(o => o.Error ?? "unknown error")
            .Select(g => (g.Key, g.Count()))
            .OrderByDescending(e => e.Item2).ThenBy(e => e.Key, StringComparer.Ordinal)
            .ToList();
        return new RunMetrics
        {
            Completed = ok.Count,
            Failed = outcomes.Count - ok.Count,
            DurationSeconds = durationSeconds,
            TotalInputTokens = input,
            TotalOutputTokens = output,
            RequestThroughput = ok.Count / durationSeconds,
            OutputThroughput = output / durationSeconds,
            TotalThroughput = (input + output) / durationSeconds,
            Ttft = LatencyStatistics.FromSeconds([.. ok.Select(o => o.TtftSeconds)]),
            Tpot = LatencyStatistics.FromSeconds(tpots),
            Itl = LatencyStatistics.FromSeconds(itls),
            E2el = LatencyStatistics.FromSeconds([.. ok.Select(o => o.LatencySeconds)]),
            PeakOutputThroughput = PeakPerSecond(ok),
            PeakConcurrentRequests = PeakConcurrency(ok),
            Errors = errors,
        };
    }

    /// <summary>Token arrival times (start + TTFT + cumulative ITL) counted in one-second buckets from the first start.</summary>
    private static double PeakPerSecond(IReadOnlyList<RequestOutcome> ok)
    {
        if (ok.Count == 0) return 0;
        double minStart = ok.Min(o => o.StartSeconds);
        double maxEnd = ok.Max(o => o.StartSeconds + o.LatencySeconds);
        int buckets = (int)Math.Ceiling(maxEnd - minStart) + 1;
        var counts = new int[buckets];
        foreach (var o in ok)
        {
            double t = o.StartSeconds + o.TtftSeconds;
            Count(t);
            foreach (var gap in o.ItlSeconds) Count(t += gap);
        }
        return counts.Max();

        void Count(double time)
        {
            int bucket = (int)(time - minStart);
            if (bucket >= 0 && bucket < buckets) counts[bucket]++;
        }
    }

    /// <summary>A sweep over half-open [start, end) intervals: a departure at the same instant precedes an arrival.</summary>
    private static int PeakConcurrency(IReadOnlyList<RequestOutcome> ok)
    {
        var events = ok.SelectMany(o => new[] { (Time: o.StartSeconds, Delta: 1), (Time: o.StartSeconds + o.LatencySeconds, Delta: -1) })
            .OrderBy(e => e.Time).ThenBy(e => e.Delta);
        int current = 0, peak = 0;
        foreach (var (_, delta) in events) peak = Math.Max(peak, current += delta);
        return peak;
    }
}
