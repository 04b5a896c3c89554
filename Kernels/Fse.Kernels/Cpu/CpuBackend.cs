using System.Numerics.Tensors;

namespace Fse.Kernels.Cpu;

/// <summary>
/// The reference backend: plain C# over host memory (Span, System.Numerics.Tensors, Parallel.For), F32
/// activations, 16-bit weights widened on the fly. Weights uploaded from a memory-mapped checkpoint are used in
/// place, not copied.
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    public string Name => "cpu";

    public long? MemoryBytes => null;

    public Tensor Allocate(DType dtype, params int[] shape) => CpuTensor.Allocate(dtype, shape);

    public Tensor Upload(HostTensor source) => CpuTensor.View(source);

    public Tensor Upload(RandomMatrix source, int[]? shape = null)
    {
        var t = CpuTensor.Allocate(source.DType, new WeightTensor(source, shape).Shape);
        try
        {
            source.WriteTo(new Span<byte>(t.Data, checked((int)(t.ElementCount * t.DType.Size()))));
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    public Tensor Upload(ReadOnlySpan<float> data, params int[] shape)
    {
        var t = CpuTensor.Allocate(DType.F32, shape);
        data.CopyTo(t.F32);
        return t;
    }

    public Tensor Upload(ReadOnlySpan<int> data, params int[] shape)
    {
        var t = CpuTensor.Allocate(DType.I32, shape);
        data.CopyTo(t.I32);
        return t;
    }

    public void Download(Tensor source, Span<float> destination) => C(source).F32.CopyTo(destination);

    public void Download(Tensor source, Span<int> destination) => C(source).I32.CopyTo(destination);

    public void Synchronize() { }

    public void Dispose() { }

    public void Embedding(Tensor ids, Tensor table, Tensor output)
    {
        var idx = C(ids).I32;
        var rows = new WeightRows(C(table));
        var o = C(output).F32;
        Expect(output, idx.Length, rows.Cols);
        for (int t = 0; t < idx.Length; t++)
        {
            if ((uint)idx[t] >= (uint)rows.Count) throw new ArgumentOutOfRangeException(nameof(ids), $"Token id {idx[t]} is outside the table of {rows.Count} rows.");
            fixed (float* dst = o.Slice(t * rows.Cols, rows.Cols))
            {
                float* row = rows.Row(idx[t], dst);
                if (row != dst) new ReadOnlySpan<float>(row, rows.Cols).CopyTo(new Span<float>(dst, rows.Cols));
            }
        }
    }

    public void RmsNorm(Tensor x, Tensor weight, Tensor output, float eps, bool unitOffset)
    {
        var xs = C(x).F32;
        var w = C(weight).F32;
        var o = C(output).F32;
        int d = w.Length;
        if (x.Dim(-1) != d || output.ElementCount != x.ElementCount) throw Shapes("RmsNorm", x, weight, output);
        int rows = xs.Length / d;
        Span<float> scale = d <= 4096 ? stackalloc float[d] : new float[d];
        for (int i = 0; i < d; i++) scale[i] = unitOffset ? 1f + w[i] : w[i];
        for (int r = 0; r < rows; r++)
        {
            var row = xs.Slice(r * d, d);
            float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(row) / d + eps);
            var dst = o.Slice(r * d, d);
            TensorPrimitives.Multiply(row, inv, dst);
            TensorPrimitives.Multiply(dst, scale, dst);
        }
    }

    public void ArgMax(Tensor x, Tensor output)
    {
        int n = GreedyArgMax.Check(x, output);
        var values = C(x).F32;
        var o = C(output).F32;
        for (int r = 0; r < o.Length; r++) o[r] = GreedyArgMax.Of(values.Slice(r * n, n));
    }

    public void Add(Tensor a, Tensor b, Tensor output)
    {
        if (a.ElementCount != b.ElementCount || a.ElementCount != output.ElementCount) throw Shapes("Add", a, b, output);
        TensorPrimitives.Add(C(a).F32, C(b).F32, C(output).F32);
    }

    public void MatMul(Tensor x, Tensor weight, Tensor? bias, Tensor output)
    {
        var w = new WeightRows(C(weight));
        int tokens = checked((int)x.Rows);
        if (x.Dim(-1) != w.Cols || output.ElementCount != (long)tokens * w.Count) throw Shapes("MatMul", x, weight, output);
        if (bias is not null && bias.ElementCount != w.Count) throw Shapes("MatMul bias", bias, weight, output);
        Gemm.Run((float*)C(x).Data, tokens, w, bias is null ? null : (float*)C(bias).Data, (float*)C(output).Data);
    }

    public void SiluMul(Tensor gate, Tensor up, Tensor output)
    {
        if (gate.ElementCount != up.ElementCount || gate.ElementCount != output.ElementCount) throw Shapes("SiluMul", gate, up, output);
        var g = C(gate).F32;
        var u = C(up).F32;
        var o = C(output).F32;
        for (int i = 0; i < g.Length; i++) o[i] = Numerics.Silu(g[i]) * u[i];
    }

    public void SigmoidMul(Tensor x, Tensor gate, Tensor output)
    {
        if (x.ElementCount != gate.ElementCount || x.ElementCount != output.ElementCount) throw Shapes("SigmoidMul", x, gate, output);
        var xs = C(x).F32;
        var g = C(gate).F32;
        var o = C(output).F32;
        for (int i = 0; i < xs.Length; i++) o[i] = xs[i] * Numerics.Sigmoid(g[i]);
    }

    public void SigmoidScaleAdd(Tensor output, Tensor x, Tensor gateLogit)
    {
        int tokens = checked((int)gateLogit.ElementCount);
        if (x.ElementCount != output.ElementCount || x.Rows != tokens) throw Shapes("SigmoidScaleAdd", output, x, gateLogit);
        var o = C(output).F32;
        var xs = C(x).F32;
        var g = C(gateLogit).F32;
        int d = xs.Length / tokens;
        for (int t = 0; t < tokens; t++)
        {
            float s = Numerics.Sigmoid(g[t]);
            var dst = o.Slice(t * d, d);
            TensorPrimitives.MultiplyAdd(xs.Slice(t * d, d), s, dst, dst);
        }
    }

    public void Rope(Tensor x, SequenceBatch batch, int rotaryDim, float theta)
    {
        if (x.Rank != 3 || x.Dim(0) != batch.TokenCount || rotaryDim > x.Dim(2) || rotaryDim % 2 != 0)
            throw new ArgumentException($"Rope expects [tokens={batch.TokenCount}, heads, headDim ≥ {rotaryDim}], got {x}.");
        int heads = x.Dim(1), hd = x.Dim(2), half = rotaryDim / 2;
        var xs = C(x).F32;
        Span<float> invFreq = stackalloc float[half];
        RopeFrequencies(theta, rotaryDim, invFreq);
        Span<float> cos = stackalloc float[half];
        Span<float> sin = stackalloc float[half];
        for (int t = 0; t < batch.TokenCount; t++)
        {
            float pos = batch.Positions[t];
            for (int i = 0; i < half; i++)
            {
                float angle = invFreq[i] * pos;
                cos[i] = MathF.Cos(angle);
                sin[i] = MathF.Sin(angle);
            }
            for (int h = 0; h < heads; h++)
            {
                var v = xs.Slice((t * heads + h) * hd, rotaryDim);
                for (int i = 0; i < half; i++)
                {
                    float a = v[i], b = v[i + half];
                    v[i] = a * cos[i] - b * sin[i];
                    v[i + half] = b * cos[i] + a * sin[i];
                }
            }
        }
    }

    /// <summary>HF's default inverse frequencies, in float32 as HF computes them: 1 / theta^(2i/dim).</summary>
    public static void RopeFrequencies(float theta, int rotaryDim, Span<float> invFreq)
    {
        for (int i = 0; i < rotaryDim / 2; i++)
            invFreq[i] = 1f / MathF.Pow(theta, (2 * i) / (float)rotaryDim);
    }

    internal static CpuTensor C(Tensor t) =>
        t as CpuTensor ?? throw new ArgumentException($"{t} belongs to another backend than cpu.");

    private static void Expect(Tensor t, long rows, int cols)
    {
        if (t.ElementCount != rows * cols) throw new ArgumentException($"Expected [{rows}, {cols}], got {t}.");
    }

    private static ArgumentException Shapes(string op, params Tensor[] ts) =>
        new($"{op}: incompatible shapes {string.Join(", ", ts.Select(t => t.ToString()))}.");
}
