namespace Fse.Runtime.Inference;

/// <summary>One generation: what <c>Invoke-FseGenerate</c> returns.</summary>
public sealed class FseGeneration
{
    public required string Model { get; init; }
    public required string Fse { get; init; }
    public required string Device { get; init; }
    public required int[] PromptTokenIds { get; init; }
    public required int[] TokenIds { get; init; }

    /// <summary>The new tokens as text (empty when the checkpoint has no tokenizer).</summary>
    public required string Text { get; init; }

    /// <summary>"stop" (an end-of-sequence token) or "length" (MaxTokens reached).</summary>
    public required string FinishReason { get; init; }
    public required double PrefillMs { get; init; }
    public required double DecodeMs { get; init; }
    public required double DecodeTokensPerSecond { get; init; }

    public static FseGeneration From(GenerationResult r, string model, string fse, string device, string text) => new()
    {
        Model = model,
        Fse = fse,
        Device = device,
        PromptTokenIds = r.PromptTokenIds,
        TokenIds = r.TokenIds,
        Text = text,
        FinishReason = r.FinishReason,
        PrefillMs = r.PrefillTime.TotalMilliseconds,
        DecodeMs = r.DecodeTime.TotalMilliseconds,
        DecodeTokensPerSecond = r.DecodeTokensPerSecond,
    };
}
