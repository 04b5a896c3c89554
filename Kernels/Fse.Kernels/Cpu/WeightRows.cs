using System.Buffers;
using System.Numerics.Tensors;

namespace Fse.Kernels.Cpu;

/// <summary>Row access to a [N, K] weight of any float dtype, widening 16-bit rows to F32 on the fly.</summary>
internal readonly unsafe struct WeightRows
{
    private readonly void* _data;
    private readonly DType _dtype;

    public WeightRows(CpuTensor w)
    {
        if (w.Rank < 1 || w.DType == DType.I32) throw new ArgumentException($"Not a float weight with rows: {w}.");
        _data = w.Data;
        _dtype = w.DType;
        Cols = w.Shape[^1];
        Count = checked((int)w.Rows);
    }

    public int Count { get; }
    public int Cols { get; }

    /// <summary>Row <paramref name="n"/> as F32: the weight itself for F32, else widened into <paramref name="scratch"/> (Cols floats).</summary>
    public float* Row(int n, float* scratch)
    {
        if (_dtype == DType.F32) return (float*)_data + (long)n * Cols;
        Numerics.Widen(new ReadOnlySpan<ushort>((ushort*)_data + (long)n * Cols, Cols), _dtype, new Span<float>(scratch, Cols));
        return scratch;
    }
}

/// <summary>The dense products all CPU matmuls share: out[t, n] = x[t] · w[n] (+ bias[n]).</summary>
internal static unsafe class Gemm
{
    private const int RowBlock = 16;

    public static void Run(float* x, int tokens, WeightRows w, float* bias, float* output)
    {
        int n = w.Count, k = w.Cols;
        int blocks = (n + RowBlock - 1) / RowBlock;
        var job = new Job(x, output, bias, tokens, w);
        if ((long)tokens * n * k < 1 << 16 || blocks == 1)
            for (int b = 0; b < blocks; b++) job.Block(b);
        else
            Parallel.For(0, blocks, job.Block);
    }

    private sealed class Job(float* x, float* output, float* bias, int tokens, WeightRows w)
    {
        public void Block(int b)
        {
            int n = w.Count, k = w.Cols;
            int n0 = b * RowBlock, rows = Math.Min(n, n0 + RowBlock) - n0;
            float[] scratch = ArrayPool<float>.Shared.Rent(k * RowBlock);
            try
            {
                fixed (float* sp = scratch)
                {
                    // Widen the block's rows once, then reuse them for every token while x[t] stays in cache.
                    float** rowPtr = stackalloc float*[RowBlock];
                    for (int r = 0; r < rows; r++) rowPtr[r] = w.Row(n0 + r, sp + (long)r * k);
                    for (int t = 0; t < tokens; t++)
                    {
                        var xt = new ReadOnlySpan<float>(x + (long)t * k, k);
                        float* ot = output + (long)t * n + n0;
                        for (int r = 0; r < rows; r++)
                            ot[r] = TensorPrimitives.Dot(xt, new ReadOnlySpan<float>(rowPtr[r], k)) + (bias is null ? 0f : bias[n0 + r]);
                    }
                }
            }
            finally { ArrayPool<float>.Shared.Return(scratch); }
        }
    }
}
