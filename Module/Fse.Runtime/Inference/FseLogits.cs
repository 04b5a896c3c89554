namespace Fse.Runtime.Inference;

/// <summary>Logits of every position of a token sequence: what <c>Get-FseLogits</c> returns.</summary>
public sealed class FseLogits
{
    public required string Model { get; init; }
    public required string Fse { get; init; }
    public required string Device { get; init; }
    public required int[] TokenIds { get; init; }

    /// <summary>[position][vocab]: row i predicts the token after TokenIds[i].</summary>
    public required float[][] Logits { get; init; }

    public int Positions => Logits.Length;
    public int VocabSize => Logits.Length == 0 ? 0 : Logits[0].Length;

    /// <summary>The argmax token after each position.</summary>
    public int[] Argmax => Logits.Select(row => Sampler.ArgMax(row)).ToArray();
}
