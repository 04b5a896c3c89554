namespace Fse.Bench;

/// <summary>
/// What one benchmark request measured, in seconds from the moment it was sent (vLLM's RequestFuncOutput).
/// <see cref="StartSeconds"/> is on the run's own clock (seconds since the sweep point started).
/// </summary>
public sealed record RequestOutcome
{
    public required bool Success { get; init; }

    /// <summary>When the request was sent, seconds since the point's run started.</summary>
    public required double StartSeconds { get; init; }

    /// <summary>Time to the first chunk that carries <c>choices</c>.</summary>
    public double TtftSeconds { get; init; }

    /// <summary>Gaps between consecutive choice-bearing chunks.</summary>
    public IReadOnlyList<double> ItlSeconds { get; init; } = [];

    /// <summary>Time of the last choice-bearing chunk (E2EL): not the usage chunk, not <c>[DONE]</c>.</summary>
    public double LatencySeconds { get; init; }

    /// <summary>The prompt length: <c>usage.prompt_tokens</c> when the server sent it, else the length sent.</summary>
    public int PromptTokens { get; init; }

    /// <summary>The output length: <c>usage.completion_tokens</c>, else re-tokenised, else the choice-bearing chunk count.</summary>
    public int OutputTokens { get; init; }

    /// <summary>Where <see cref="OutputTokens"/> came from.</summary>
    public OutputLengthSource OutputLengthSource { get; init; }

    public string GeneratedText { get; init; } = "";

    /// <summary>Why the request failed (the server's own message where it sent one).</summary>
    public string? Error { get; init; }
}

public enum OutputLengthSource
{
    Usage,
    Retokenized,
    ChunkCount,
}
