namespace Fse.Runtime.Serving;

/// <summary>A snapshot of an engine's load and totals (what /metrics and /health report).</summary>
public sealed record EngineStats
{
    /// <summary>Sequences holding KV-cache blocks (prefilling or decoding).</summary>
    public int Running { get; init; }

    /// <summary>Sequences submitted or preempted and not yet admitted.</summary>
    public int Waiting { get; init; }

    public int UsedBlocks { get; init; }
    public int TotalBlocks { get; init; }
    public int UsedStateSlots { get; init; }
    public int TotalStateSlots { get; init; }

    /// <summary>Fraction of KV-cache blocks in use, 0 to 1 (vLLM's <c>kv_cache_usage_perc</c>).</summary>
    public double KvCacheUsage => TotalBlocks == 0 ? 0 : (double)UsedBlocks / TotalBlocks;

    /// <summary>Prompt tokens of admitted requests (each request counted once, recomputation not counted).</summary>
    public long PromptTokens { get; init; }

    /// <summary>Tokens generated.</summary>
    public long GenerationTokens { get; init; }

    /// <summary>Prompt and generated tokens recomputed after preemption.</summary>
    public long RecomputedTokens { get; init; }

    public long Preemptions { get; init; }

    /// <summary>Forward steps run.</summary>
    public long Steps { get; init; }

    /// <summary>Steps that failed (their sequences ended with <see cref="FinishReason.Error"/>).</summary>
    public long FailedSteps { get; init; }

    /// <summary>
    /// Steps the backend recorded into a new step graph (<see cref="Fse.Kernels.IStepGraphs"/>; 0 without graphs): one per
    /// new decode shape, so in steady decoding this stays put while <see cref="StepGraphReplays"/> grows.
    /// </summary>
    public long StepGraphsRecorded { get; init; }

    /// <summary>Steps the backend ran by replaying a recorded step graph.</summary>
    public long StepGraphReplays { get; init; }

    /// <summary>False once the engine loop has died; nothing more will be served.</summary>
    public bool Healthy { get; init; }

    /// <summary>False once admission stopped (shutdown) or the engine died.</summary>
    public bool Accepting { get; init; }
}
