using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>out [T, N] = x [T, K] · w [N, K]ᵀ (+ bias), weights in any <see cref="IWeightFormat"/>, F32 accumulation.</summary>
public struct MatMulArgs
{
    public ArrayView<byte> W;
    public ArrayView<U4> W4;
    public ArrayView<float> X;
    public ArrayView<U4> X4;
    public ArrayView<float> Bias;
    public ArrayView<float> Out;
    public int Tokens, N, K, HasBias;

    /// <summary>
    /// GEMV only: rows from <see cref="Split1"/>, <see cref="Split2"/>, <see cref="Split3"/> on go to <see cref="Out1"/>,
    /// <see cref="Out2"/>, <see cref="Out3"/> as [Tokens, block rows] (a stacked weight's projections, see
    /// <see cref="IBackend.MatMulSplit"/>); N in all three for a plain MatMul.
    /// </summary>
    public int Split1, Split2, Split3;
    public ArrayView<float> Out1, Out2, Out3;

    /// <summary>Non-zero when W and X are 16-byte aligned and K is a multiple of 8: 128-bit loads.</summary>
    public int Vector;

    /// <summary>GEMV only: the device address of W's first byte, whose rows the kernel hints into L2 before it waits for its predecessor (0: none).</summary>
    public long WAddress;

    /// <summary>Tiled kernel only: the group is Side×Side threads, each computing a 4×4 block of a 4·Side square tile.</summary>
    public int Side;
}

public static class MatMulKernels
{
    /// <summary>Tokens handled per pass over a weight row by <see cref="Gemv{TW}"/>: four accumulators per lane.</summary>
    public const int GemvTokenTile = 4;

    /// <summary>Depth of one shared-memory step of <see cref="Tiled{TW}"/>.</summary>
    public const int TileDepth = 16;

    /// <summary>
    /// Few tokens (decode): one warp per output row, lanes stride over K with 128-bit weight loads (four in flight per
    /// lane: a 2048-wide bf16 row is two passes, so the warp waits on memory twice), up to four tokens per pass, shuffle reduction.
    /// </summary>
    public static void Gemv<TW>(MatMulArgs a) where TW : struct, IWeightFormat
    {
        int warps = Group.DimX / Warp.WarpSize;
        int row = Grid.IdxX * warps + Warp.WarpIdx;
        if (row >= a.N) return;
        long rowBytes = (long)a.K * default(TW).Bytes;
        GridDependency.PrefetchL2(a.WAddress == 0 ? 0 : a.WAddress + row * rowBytes, rowBytes);
        GridDependency.Wait();
        int lane = Warp.LaneIdx, ws = Warp.WarpSize;
        TW fmt = default;
        float bias = a.HasBias != 0 ? a.Bias[row] : 0f;
        for (int t0 = 0; t0 < a.Tokens; t0 += GemvTokenTile)
        {
            int nt = a.Tokens - t0;
            float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
            if (a.Vector != 0)
            {
                int chunks = a.K / 8;
                long wb = (long)row * chunks;
                long xs = a.K / 4;              // one x row in 16-byte units
                long x0 = t0 * xs;
                int c = lane;
                for (; c + 3 * ws < chunks; c += 4 * ws)
                {
                    F8 w0 = fmt.Chunk(a.W4, wb + c);
                    F8 w1 = fmt.Chunk(a.W4, wb + c + ws);
                    F8 w2 = fmt.Chunk(a.W4, wb + c + 2 * ws);
                    F8 w3 = fmt.Chunk(a.W4, wb + c + 3 * ws);
                    s0 += Dot4(w0, w1, w2, w3, a.X4, x0, c, ws);
                    if (nt > 1) s1 += Dot4(w0, w1, w2, w3, a.X4, x0 + xs, c, ws);
                    if (nt > 2) s2 += Dot4(w0, w1, w2, w3, a.X4, x0 + 2 * xs, c, ws);
                    if (nt > 3) s3 += Dot4(w0, w1, w2, w3, a.X4, x0 + 3 * xs, c, ws);
                }
                for (; c < chunks; c += ws)
                {
                    F8 w0 = fmt.Chunk(a.W4, wb + c);
                    s0 += w0.Dot(a.X4, x0 + 2 * c);
                    if (nt > 1) s1 += w0.Dot(a.X4, x0 + xs + 2 * c);
                    if (nt > 2) s2 += w0.Dot(a.X4, x0 + 2 * xs + 2 * c);
                    if (nt > 3) s3 += w0.Dot(a.X4, x0 + 3 * xs + 2 * c);
                }
            }
            else
            {
                long wb = (long)row * a.K;
                long x0 = (long)t0 * a.K;
                for (int k = lane; k < a.K; k += ws)
                {
                    float w = fmt.Scalar(a.W, wb + k);
                    s0 += w * a.X[x0 + k];
                    if (nt > 1) s1 += w * a.X[x0 + a.K + k];
                    if (nt > 2) s2 += w * a.X[x0 + 2 * a.K + k];
                    if (nt > 3) s3 += w * a.X[x0 + 3 * a.K + k];
                }
            }
            s0 = Reduce.WarpSum(s0);
            if (nt > 1) s1 = Reduce.WarpSum(s1);
            if (nt > 2) s2 = Reduce.WarpSum(s2);
            if (nt > 3) s3 = Reduce.WarpSum(s3);
            if (lane == 0)
            {
                var (output, col, width) = Place(a, row);
                long o = (long)t0 * width + col;
                output[o] = s0 + bias;
                if (nt > 1) output[o + width] = s1 + bias;
                if (nt > 2) output[o + 2 * width] = s2 + bias;
                if (nt > 3) output[o + 3 * width] = s3 + bias;
            }
        }
    }

    /// <summary>The output block weight row <paramref name="row"/> belongs to, its column there and the block's width.</summary>
    private static (ArrayView<float> Output, int Col, int Width) Place(MatMulArgs a, int row)
    {
        if (row >= a.Split3) return (a.Out3, row - a.Split3, a.N - a.Split3);
        if (row >= a.Split2) return (a.Out2, row - a.Split2, a.Split3 - a.Split2);
        if (row >= a.Split1) return (a.Out1, row - a.Split1, a.Split2 - a.Split1);
        return (a.Out, row, a.Split1);
    }

    /// <summary>x row chunks c, c + ws, c + 2·ws, c + 3·ws (16-byte units from <paramref name="xRow"/>) against four weight chunks.</summary>
    public static float Dot4(F8 w0, F8 w1, F8 w2, F8 w3, ArrayView<U4> x, long xRow, int c, int ws) =>
        w0.Dot(x, xRow + 2 * c) + w1.Dot(x, xRow + 2 * (c + ws)) + w2.Dot(x, xRow + 2 * (c + 2 * ws)) + w3.Dot(x, xRow + 2 * (c + 3 * ws));

    /// <summary>
    /// Many tokens: square output tiles of 4·Side tokens × 4·Side outputs per group, x and widened w staged through shared
    /// memory <see cref="TileDepth"/> columns at a time; thread (tx, ty) owns rows ty + Side·i and columns tx + Side·j.
    /// Grid: tiles over N fastest, then over tokens.
    /// </summary>
    public static void Tiled<TW>(MatMulArgs a) where TW : struct, IWeightFormat
    {
        TW fmt = default;
        int side = a.Side, tile = 4 * side, stride = tile + 1;
        var shared = SharedMemory.GetDynamic<float>();
        var xs = shared.SubView(0, TileDepth * stride);
        var wsh = shared.SubView(TileDepth * stride, TileDepth * stride);
        int tilesN = (a.N + tile - 1) / tile;
        int m0 = Grid.IdxX / tilesN * tile, n0 = Grid.IdxX % tilesN * tile;
        int tid = Group.IdxX, tx = tid % side, ty = tid / side, threads = side * side;
        var acc = new Acc16();
        for (int k0 = 0; k0 < a.K; k0 += TileDepth)
        {
            for (int e = tid; e < tile * TileDepth; e += threads)
            {
                int r = e / TileDepth, kk = e - r * TileDepth, k = k0 + kk;
                xs[kk * stride + r] = m0 + r < a.Tokens && k < a.K ? a.X[(long)(m0 + r) * a.K + k] : 0f;
                wsh[kk * stride + r] = n0 + r < a.N && k < a.K ? fmt.Scalar(a.W, (long)(n0 + r) * a.K + k) : 0f;
            }
            Group.Barrier();
            for (int kk = 0; kk < TileDepth; kk++)
            {
                int xb = kk * stride + ty, wb = kk * stride + tx;
                acc.Fma(xs[xb], xs[xb + side], xs[xb + 2 * side], xs[xb + 3 * side],
                        wsh[wb], wsh[wb + side], wsh[wb + 2 * side], wsh[wb + 3 * side]);
            }
            Group.Barrier();
        }
        for (int i = 0; i < 4; i++)
        {
            int m = m0 + ty + side * i;
            if (m >= a.Tokens) break;
            for (int j = 0; j < 4; j++)
            {
                int n = n0 + tx + side * j;
                if (n < a.N) a.Out[(long)m * a.N + n] = acc.Get(i, j) + (a.HasBias != 0 ? a.Bias[n] : 0f);
            }
        }
    }

    /// <summary>x split into bf16 terms whose sum is x to ~8·terms bits, for cuBLAS bf16 GEMMs with F32 accumulation: term i of row t at [(i·T + t)·K].</summary>
    public static void SplitBf16(ArrayView<float> x, ArrayView<ushort> terms, int n, int count)
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) WriteBf16Terms(terms, i, n, count, x[i]);
    }

    /// <summary>
    /// Writes <paramref name="value"/> as <paramref name="count"/> bf16 terms whose sum approximates it (each the rounding
    /// of what the previous ones left), term j at <paramref name="first"/> + j·<paramref name="stride"/>.
    /// </summary>
    public static void WriteBf16Terms(ArrayView<ushort> terms, long first, long stride, int count, float value)
    {
        for (int j = 0; j < count; j++)
        {
            ushort h = ToBf16(value);
            terms[first + j * stride] = h;
            value -= Interop.IntAsFloat((uint)h << 16);
        }
    }

    /// <summary>Widens w[rowStart·K ...) for <paramref name="n"/> elements into F32 (cuBLAS SGEMM on F16 weights, a chunk of rows at a time).</summary>
    public static void Widen<TW>(ArrayView<byte> w, long start, ArrayView<float> o, int n) where TW : struct, IWeightFormat
    {
        TW fmt = default;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) o[i] = fmt.Scalar(w, start + i);
    }

    /// <summary>o[i] = Σ_j parts[j·n + i] (+ bias[i mod width]): the per-term GEMM outputs of a split-activation cuBLAS call, summed.</summary>
    public static void SumTerms(ArrayView<float> parts, ArrayView<float> bias, ArrayView<float> o, int n, int width, int terms, int hasBias)
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            float s = parts[i];
            for (int j = 1; j < terms; j++) s += parts[(long)j * n + i];
            o[i] = hasBias != 0 ? s + bias[i % width] : s;
        }
    }

    /// <summary>out[t, n] = bias[n] (the cuBLAS path then accumulates with beta = 1).</summary>
    public static void BroadcastRows(ArrayView<float> bias, ArrayView<float> o, int n, int width)
    {
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX) o[i] = bias[i % width];
    }

    /// <summary>Round to nearest even, as torch and <see cref="Bf16.FromF32"/> do; NaN stays NaN.</summary>
    public static ushort ToBf16(float f)
    {
        uint bits = Interop.FloatAsInt(f);
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return 0x7FC0;
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
    }
}

/// <summary>A 4×4 block of F32 accumulators held in registers.</summary>
public struct Acc16
{
    public float C00, C01, C02, C03, C10, C11, C12, C13, C20, C21, C22, C23, C30, C31, C32, C33;

    public void Fma(float a0, float a1, float a2, float a3, float b0, float b1, float b2, float b3)
    {
        C00 += a0 * b0; C01 += a0 * b1; C02 += a0 * b2; C03 += a0 * b3;
        C10 += a1 * b0; C11 += a1 * b1; C12 += a1 * b2; C13 += a1 * b3;
        C20 += a2 * b0; C21 += a2 * b1; C22 += a2 * b2; C23 += a2 * b3;
        C30 += a3 * b0; C31 += a3 * b1; C32 += a3 * b2; C33 += a3 * b3;
    }

    public readonly float Get(int i, int j)
    {
        float r0 = j == 0 ? C00 : j == 1 ? C01 : j == 2 ? C02 : C03;
        float r1 = j == 0 ? C10 : j == 1 ? C11 : j == 2 ? C12 : C13;
        float r2 = j == 0 ? C20 : j == 1 ? C21 : j == 2 ? C22 : C23;
        float r3 = j == 0 ? C30 : j == 1 ? C31 : j == 2 ? C32 : C33;
        return i == 0 ? r0 : i == 1 ? r1 : i == 2 ? r2 : r3;
    }
}
