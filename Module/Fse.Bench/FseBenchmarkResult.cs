namespace Fse.Bench;

/// <summary>
/// One grid point of a serving benchmark (vllm bench serve semantics): the grid values, the server facts, the counts,
/// the throughputs (tok/s) and the TTFT/TPOT/ITL/E2EL statistics in milliseconds. Every property is flat (numbers,
/// strings, times) so the objects work with Export-Csv, ConvertTo-Json, Sort-Object and Export-FseResult alike.
/// </summary>
public sealed class FseBenchmarkResult
{
    public string? Label { get; init; }
    public string? Model { get; init; }

    /// <summary>"On", "Off", or null when neither the server nor the handle says.</summary>
    public string? Fse { get; init; }

    public string? Device { get; init; }
    public string? Server { get; init; }

    public int InputLength { get; init; }
    public int OutputLength { get; init; }
    public int MaxConcurrency { get; init; }

    /// <summary>Requests per second released to the concurrency cap; infinity sends them all at once.</summary>
    public double RequestRate { get; init; } = double.PositiveInfinity;

    public double Burstiness { get; init; } = 1.0;
    public double RangeRatio { get; init; }
    public int Seed { get; init; }
    public int NumPrompts { get; init; }
    public int WarmupRequests { get; init; }
    public PromptMode PromptMode { get; init; }

    public int Completed { get; init; }
    public int Failed { get; init; }
    public double DurationSeconds { get; init; }
    public long TotalInputTokens { get; init; }
    public long TotalOutputTokens { get; init; }

    /// <summary>Completed requests per second of the run.</summary>
    public double RequestThroughput { get; init; }

    /// <summary>Output tokens per second of the run.</summary>
    public double OutputThroughput { get; init; }

    /// <summary>Prompt plus output tokens per second of the run.</summary>
    public double TotalThroughput { get; init; }

    /// <summary>The most output tokens in one second of the run.</summary>
    public double PeakOutputThroughput { get; init; }

    public int PeakConcurrentRequests { get; init; }

    public double MeanTtftMs { get; init; }
    public double MedianTtftMs { get; init; }
    public double StdTtftMs { get; init; }
    public double P99TtftMs { get; init; }
    public double MeanTpotMs { get; init; }
    public double MedianTpotMs { get; init; }
    public double StdTpotMs { get; init; }
    public double P99TpotMs { get; init; }
    public double MeanItlMs { get; init; }
    public double MedianItlMs { get; init; }
    public double StdItlMs { get; init; }
    public double P99ItlMs { get; init; }
    public double MeanE2elMs { get; init; }
    public double MedianE2elMs { get; init; }
    public double StdE2elMs { get; init; }
    public double P99E2elMs { get; init; }

    public DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset FinishedAt { get; init; }

    /// <summary>Every distinct failure message, one per line, prefixed by how many requests failed with it; empty when none failed.</summary>
    public string Errors { get; init; } = "";

    /// <summary>Facts about how the point was measured that qualify its numbers (token-id prompts, output lengths without usage, …).</summary>
    public string Notes { get; init; } = "";

    internal static FseBenchmarkResult Create(
        BenchmarkGridPoint point, BenchmarkSettings settings, ServerFacts facts, string server, PromptSet prompts,
        RunMetrics m, DateTimeOffset startedAt, DateTimeOffset finishedAt, string notes) => new()
    {
        Label = settings.Label,
        Model = facts.Model,
        Fse = facts.Fse,
        Device = facts.Device,
        Server = server,
        InputLength = point.InputLength,
        OutputLength = point.OutputLength,
        MaxConcurrency = point.MaxConcurrency,
        RequestRate = point.RequestRate,
        Burstiness = settings.Burstiness,
        RangeRatio = settings.RangeRatio,
        Seed = settings.Seed,
        NumPrompts = point.NumPrompts,
        WarmupRequests = settings.WarmupRequests,
        PromptMode = prompts.Mode,
        Completed = m.Completed,
        Failed = m.Failed,
        DurationSeconds = m.DurationSeconds,
        TotalInputTokens = m.TotalInputTokens,
        TotalOutputTokens = m.TotalOutputTokens,
        RequestThroughput = m.RequestThroughput,
        OutputThroughput = m.OutputThroughput,
        TotalThroughput = m.TotalThroughput,
        PeakOutputThroughput = m.PeakOutputThroughput,
        PeakConcurrentRequests = m.PeakConcurrentRequests,
        MeanTtftMs = m.Ttft.MeanMs,
        MedianTtftMs = m.Ttft.MedianMs,
        StdTtftMs = m.Ttft.StdMs,
        P99TtftMs = m.Ttft.P99Ms,
        MeanTpotMs = m.Tpot.MeanMs,
        MedianTpotMs = m.Tpot.MedianMs,
        StdTpotMs = m.Tpot.StdMs,
        P99TpotMs = m.Tpot.P99Ms,
        MeanItlMs = m.Itl.MeanMs,
        MedianItlMs = m.Itl.MedianMs,
        StdItlMs = m.Itl.StdMs,
        P99ItlMs = m.Itl.P99Ms,
        MeanE2elMs = m.E2el.MeanMs,
        MedianE2elMs = m.E2el.MedianMs,
        StdE2elMs = m.E2el.StdMs,
        P99E2elMs = m.E2el.P99Ms,
        StartedAt = startedAt,
        FinishedAt = finishedAt,
        Errors = string.Join("\n", m.Errors.Select(e => $"{e.Count}x {e.Message.ReplaceLineEndings(" ")}")),
        Notes = notes,
    };

    public override string ToString() =>
        $"{(Label is null ? "" : Label + " ")}FSE {Fse ?? "?"} ISL {InputLength} OSL {OutputLength} MC {MaxConcurrency}: " +
        $"{OutputThroughput:0.0} out tok/s, TPOT {MeanTpotMs:0.00} ms, {Completed} ok, {Failed} failed";
}
