using Fse.Runtime.Inference;

namespace Fse.Runtime.Serving;

/// <summary>One generation request to an <see cref="InferenceEngine"/>, in token ids.</summary>
public sealed record EngineRequest
{
    /// <summary>The prompt; at least one token, every id inside the model's vocabulary.</summary>
    public required IReadOnlyList<int> PromptTokenIds { get; init; }

    /// <summary>The most tokens to generate (at least 1; prompt plus this at most the engine's max model length).</summary>
    public int MaxTokens { get; init; } = 16;

    public SamplingParams Sampling { get; init; } = SamplingParams.Greedy;

    /// <summary>Token ids that end the generation (kept as its last token) in addition to the model's end-of-sequence ids.</summary>
    public IReadOnlyCollection<int> StopTokenIds { get; init; } = [];

    /// <summary>Keep generating past the model's end-of-sequence ids (the benchmark's fixed output lengths).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Log probability of each generated token plus this many most likely alternatives; null for none.</summary>
    public int? Logprobs { get; init; }

    /// <summary>Log probability of each prompt token after the first plus this many most likely alternatives; null for none.</summary>
    public int? PromptLogprobs { get; init; }
}

/// <summary>Why a sequence ended (OpenAI's <c>finish_reason</c> for the first two).</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence or stop token, or a stop string the caller matched.</summary>
    Stop,

    /// <summary>max_tokens or the model length was reached.</summary>
    Length,

    /// <summary>Cancelled by the caller, or the engine shut down.</summary>
    Abort,

    /// <summary>The step that computed it failed.</summary>
    Error,
}

/// <summary>A token and its log probability.</summary>
public readonly record struct TokenLogprob(int TokenId, double Logprob);

/// <summary>The log probability of a chosen token (prompt or generated) and the most likely tokens at its position, best first.</summary>
public sealed record PositionLogprobs(int TokenId, double Logprob, IReadOnlyList<TokenLogprob> Top);

/// <summary>
/// What an engine step produced for one sequence: prompt-token log probabilities (once the prefill reaches them), a new
/// token, and/or the end.
/// </summary>
public sealed record SequenceOutput
{
    /// <summary>Log probabilities of prompt tokens, keyed by prompt position (≥ 1); each position is reported once.</summary>
    public IReadOnlyList<(int Position, PositionLogprobs Logprobs)>? PromptLogprobs { get; init; }

    /// <summary>A generated token, or null.</summary>
    public int? TokenId { get; init; }

    /// <summary>Its log probabilities, when asked for.</summary>
    public PositionLogprobs? Logprobs { get; init; }

    /// <summary>Set on the last output of a sequence.</summary>
    public FinishReason? Finish { get; init; }

    /// <summary>What went wrong when <see cref="Finish"/> is <see cref="FinishReason.Error"/>.</summary>
    public string? Error { get; init; }
}
