using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>Largest F16 weight chunk widened to F32 at a time for cuBLAS SGEMM (elements).</summary>
    private const long WideChunkElements = 1 << 24;

    /// <summary>Largest stacked per-term output of the split-bf16 cuBLAS path (elements); more tokens go in blocks.</summary>
    private const long TermOutElements = 1 << 26;

    /// <summary>
    /// out [T, N] = x [T, K] · w [N, K]ᵀ (+ bias): cuBLAS from <see cref="CudaBackendOptions.CublasMinTokens"/> tokens
    /// when it is loaded, else the GEMV kernel up to <see cref="CudaBackendOptions.GemvMaxTokens"/> tokens, else the tiled kernel.
    /// </summary>
    public void MatMul(Tensor x, Tensor weight, Tensor? bias, Tensor output)
    {
        var xs = T(x);
        var w = T(weight);
        var o = T(output);
        if (w.Rank < 1 || w.DType == DType.I32) throw new ArgumentException($"Not a float weight with rows: {weight}.");
        int tokens = checked((int)x.Rows), n = checked((int)w.Rows), k = w.Dim(-1);
        if (x.Dim(-1) != k || output.ElementCount != (long)tokens * n) throw Shapes("MatMul", x, weight, output);
        if (bias is not null && bias.ElementCount != n) throw Shapes("MatMul bias", bias, weight, output);
        if (tokens == 0 || n == 0) return;
        var args = Args(xs, w, bias, o.F32, tokens, n, k);
        var opt = Options;
        if (_cublas is not null && opt.UseCublas && tokens >= opt.CublasMinTokens)
        {
            CublasMatMul(xs, w, bias is null ? null : T(bias), o, tokens, n, k);
        }
        else if (tokens <= opt.GemvMaxTokens) Gemv(w, args);
        else
        {
            int tile = 4 * _side;
            int groups = checked(((n + tile - 1) / tile) * ((tokens + tile - 1) / tile));
            _k.Tiled[w.DType](new KernelConfig(groups, _side * _side, SharedMemoryConfig.RequestDynamic<float>(2 * MatMulKernels.TileDepth * (tile + 1))), args);
        }
    }

    /// <summary>
    /// The stacked projections in one GEMV launch when the GEMV path would run (few tokens, at most four blocks): each
    /// warp writes its row into its block's output, so a decode step reads the stacked weight once instead of launching
    /// per block. Otherwise one <see cref="MatMul"/> per block.
    /// </summary>
    public void MatMulSplit(Tensor x, Tensor weight, Tensor? bias, IReadOnlyList<Tensor> outputs)
    {
        var blocks = MatMulSplitShapes.Blocks(x, weight, bias, outputs);
        var w = T(weight);
        var xs = T(x);
        int tokens = checked((int)x.Rows), n = checked((int)w.Rows), k = w.Dim(-1);
        var opt = Options;
        bool cublas = _cublas is not null && opt.UseCublas && tokens >= opt.CublasMinTokens;
        if (blocks.Count > 4 || cublas || tokens > opt.GemvMaxTokens || w.Rank < 1 || w.DType == DType.I32 || x.Dim(-1) != k)
        {
            MatMulSplitShapes.EachBlock(this, x, weight, bias, blocks);
            return;
        }
        if (tokens == 0 || n == 0) return;
        var outs = blocks.Select(b => T(b.Output).F32).ToArray();
        int[] starts = [.. blocks.Select((_, i) => blocks.Take(i).Sum(b => b.Rows))];
        int Start(int i) => i < starts.Length ? starts[i] : n;
        var args = Args(xs, w, bias, outs[0], tokens, n, k);
        (args.Split1, args.Split2, args.Split3) = (Start(1), Start(2), Start(3));
        (args.Out1, args.Out2, args.Out3) = (outs.Length > 1 ? outs[1] : outs[0], outs.Length > 2 ? outs[2] : outs[0], outs.Length > 3 ? outs[3] : outs[0]);
        Gemv(w, args);
    }

    /// <summary>The kernels' arguments for out = x · wᵀ (+ bias), every row into <paramref name="output"/> (no split).</summary>
    private MatMulArgs Args(CudaTensor xs, CudaTensor w, Tensor? bias, ArrayView<float> output, int tokens, int n, int k) => new()
    {
        W = w.View, W4 = w.Vec, X = xs.F32, X4 = xs.Vec, Bias = bias is null ? output : T(bias).F32, Out = output,
        Tokens = tokens, N = n, K = k, HasBias = bias is null ? 0 : 1, Split1 = n, Split2 = n, Split3 = n,
        Vector = k % 8 == 0 && w.Aligned16 && xs.Aligned16 ? 1 : 0, Side = _side,
    };

    /// <summary>The GEMV kernel: one warp per weight row.</summary>
    private void Gemv(CudaTensor w, MatMulArgs args)
    {
        int warps = Warps(_group);
        args.WAddress = HintsWeights ? Pointer(w.View) : 0;
        _k.Gemv[w.DType](new KernelConfig((args.N + warps - 1) / warps, _group), args);
    }

    private void CublasMatMul(CudaTensor x, CudaTensor w, CudaTensor? bias, CudaTensor o, int tokens, int n, int k)
    {
        var cublas = _cublas!;
        float beta = 0f;
        bool splitTerms = w.DType == DType.BF16 && Options.Bf16SplitTerms > 1;
        if (bias is not null && !splitTerms)
        {
            _k.BroadcastRows(Linear((long)tokens * n), bias.F32, o.F32, tokens * n, n);
            beta = 1f;
        }
        switch (w.DType)
        {
            case DType.F32:
                cublas.Gemm(tokens, n, k, w.DevicePointer, Cublas.R32F, x.DevicePointer, Cublas.R32F, o.DevicePointer, n, 1f, beta);
                break;
            case DType.BF16:
            {
                // x = Σ bf16 terms; the terms of a block of tokens are stacked as terms·rows GEMM columns so the weight is
                // read once, then summed per token (with the bias).
                int terms = Math.Clamp(Options.Bf16SplitTerms, 1, 3);
                if (terms == 1)
                {
                    var split1 = _ws.Get<ushort>(Scratch.SplitX, (long)tokens * k);
                    _k.SplitBf16(Linear((long)tokens * k), x.F32, split1, tokens * k, 1);
                    cublas.Gemm(tokens, n, k, w.DevicePointer, Cublas.R16BF, Pointer(split1), Cublas.R16BF, o.DevicePointer, n, 1f, beta);
                    break;
                }
                int block = (int)Math.Clamp(TermOutElements / ((long)terms * n), 1, tokens);
                for (int t0 = 0; t0 < tokens; t0 += block)
                {
                    int rows = Math.Min(block, tokens - t0);
                    long count = (long)rows * k;
                    var split = _ws.Get<ushort>(Scratch.SplitX, terms * count);
                    var parts = _ws.Get<float>(Scratch.TermOut, (long)terms * rows * n);
                    _k.SplitBf16(Linear(count), x.F32.SubView((long)t0 * k, count), split, checked((int)count), terms);
                    cublas.Gemm(terms * rows, n, k, w.DevicePointer, Cublas.R16BF, Pointer(split), Cublas.R16BF, Pointer(parts), n, 1f, 0f);
                    _k.SumTerms(Linear((long)rows * n), parts, bias is null ? o.F32 : bias.F32, o.F32.SubView((long)t0 * n, (long)rows * n),
                        checked(rows * n), n, terms, bias is null ? 0 : 1);
                }
                break;
            }
            case DType.F16:
            {
                // cuBLAS wants A and B of one type; F16 activations could overflow, so F16 weights are widened a chunk of rows at a time.
                int rows = (int)Math.Max(1, Math.Min(n, WideChunkElements / k));
                var wide = _ws.Get<float>(Scratch.WideWeights, (long)rows * k);
                nint widePtr = Pointer(wide);
                for (int r0 = 0; r0 < n; r0 += rows)
                {
                    int r = Math.Min(rows, n - r0);
                    _k.WidenF16(Linear((long)r * k), w.View, (long)r0 * k, wide, r * k);
                    cublas.Gemm(tokens, r, k, widePtr, Cublas.R32F, x.DevicePointer, Cublas.R32F, o.DevicePointer + (nint)(r0 * 4L), n, 1f, beta);
                }
                break;
            }
            default:
                throw new ArgumentException($"Weights must be F32, F16 or BF16, not {w.DType}.");
        }
    }

    /// <summary>
    /// Whether kernels launched now hint their weights into L2 before they wait for their predecessor: only while a step
    /// graph records with programmatic edges, where the kernel is launched early and the hint overlaps what runs before it
    /// (eagerly it would only delay the kernel's own reads).
    /// </summary>
    private bool HintsWeights => _recording && Options.ProgrammaticLaunch && _k.WaitsForPredecessor;

    /// <summary>The device address of a view's first element.</summary>
    internal static nint Pointer<TElement>(ArrayView<TElement> view) where TElement : unmanaged =>
        ((IArrayView)view).Buffer.NativePtr + (nint)((IContiguousArrayView)view).IndexInBytes;
}
