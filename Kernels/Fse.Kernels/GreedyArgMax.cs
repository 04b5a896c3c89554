namespace Fse.Kernels;

/// <summary>
/// Greedy decoding's choice: the host scan that defines it (<see cref="Of"/>: the CPU backend's <see cref="IBackend.ArgMax"/>
/// and the host sampler both run it) and the shape rules of <see cref="IBackend.ArgMax"/>, shared by the backends.
/// </summary>
public static class GreedyArgMax
{
    /// <summary>Largest row an F32 index stays exact for.</summary>
    public const int MaxWidth = 1 << 24;

    /// <summary>Checks x F32 [rows, n] against output F32 [rows]; returns n.</summary>
    public static int Check(Tensor x, Tensor output)
    {
        if (x.DType != DType.F32 || output.DType != DType.F32 || x.Shape.Length == 0)
            throw new ArgumentException($"ArgMax takes F32 [rows, n] into F32 [rows], got {x} and {output}.");
        int n = x.Dim(-1);
        if (n < 1 || n > MaxWidth) throw new ArgumentException($"ArgMax rows must hold 1 to {MaxWidth} values (a float index is exact up to there), got {n}.");
        if (output.ElementCount != x.ElementCount / n) throw new ArgumentException($"ArgMax of {x} writes {x.ElementCount / n} indices; the output {output} holds {output.ElementCount}.");
        return n;
    }

    /// <summary>Index of the largest value, the lowest among equals; NaNs never win, and a first value of NaN gives 0.</summary>
    public static int Of(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
