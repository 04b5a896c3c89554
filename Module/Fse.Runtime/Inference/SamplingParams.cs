namespace Fse.Runtime.Inference;

/// <summary>How the next token is chosen: greedy at temperature 0, else softmax(logits/T) within the top-p nucleus.</summary>
public sealed record SamplingParams
{
    public static readonly SamplingParams Greedy = new();

    /// <summary>0 means greedy (argmax, the lower id on ties).</summary>
    public double Temperature { get; init; }

    /// <summary>Nucleus: the smallest set of most likely tokens whose probability reaches TopP (1 = all).</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Seed of this request's random stream; null draws one.</summary>
    public long? Seed { get; init; }

    public void Validate()
    {
        if (!(Temperature >= 0) || double.IsInfinity(Temperature)) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "temperature must be a finite number ≥ 0.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "top_p must lie in (0, 1].");
    }
}
