using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>The query and key heads of one attention layer's step, normalised and rotated in place by <see cref="NormKernels.NormRopeHeads"/>.</summary>
public struct QueryKeyRopeArgs
{
    public ArrayView<float> Query, Key, QueryNorm, KeyNorm, Cos, Sin;
    public int Tokens, QueryHeads, KeyHeads, HeadDim, Half, HasQueryNorm, HasKeyNorm, UnitOffset;
    public float Eps;
}

/// <summary>Row-wise normalisations: one group per row, the reduction through warp shuffles and one shared float per warp.</summary>
public static class NormKernels
{
    /// <summary>o = x/rms(x)·w, or ·(1+w) when <paramref name="unitOffset"/> ≠ 0. o may alias x.</summary>
    [TriggerAfterWait]
    public static void RmsNorm(ArrayView<float> x, ArrayView<float> w, ArrayView<float> o, int width, float eps, int unitOffset)
    {
        long b = (long)Grid.IdxX * width;
        if (width <= 2 * Group.DimX)
        {
            int i0 = Group.IdxX, i1 = i0 + Group.DimX;
            float v0 = i0 < width ? x[b + i0] : 0f, v1 = i1 < width ? x[b + i1] : 0f;
            ScaleTwo(v0, v1, w, o, b, width, eps, unitOffset);
            return;
        }
        float ss = 0f;
        for (int i = Group.IdxX; i < width; i += Group.DimX)
        {
            float v = x[b + i];
            ss += v * v;
        }
        ScaleRow(x, w, o, b, width, ss, eps, unitOffset);
    }

    /// <summary>r += d, then o = r/rms(r)·w (or ·(1+w)); one group per row, each thread normalising the values it added.</summary>
    [TriggerAfterWait]
    public static void AddRmsNorm(ArrayView<float> r, ArrayView<float> d, ArrayView<float> w, ArrayView<float> o, int width, float eps, int unitOffset)
    {
        long b = (long)Grid.IdxX * width;
        if (width <= 2 * Group.DimX)
        {
            int i0 = Group.IdxX, i1 = i0 + Group.DimX;
            float v0 = i0 < width ? r[b + i0] + d[b + i0] : 0f, v1 = i1 < width ? r[b + i1] + d[b + i1] : 0f;
            if (i0 < width) r[b + i0] = v0;
            if (i1 < width) r[b + i1] = v1;
            ScaleTwo(v0, v1, w, o, b, width, eps, unitOffset);
            return;
        }
        float ss = 0f;
        for (int i = Group.IdxX; i < width; i += Group.DimX)
        {
            float v = r[b + i] + d[b + i];
            r[b + i] = v;
            ss += v * v;
        }
        ScaleRow(r, w, o, b, width, ss, eps, unitOffset);
    }

    /// <summary>
    /// The second half of both RMSNorms when a row fits two values per thread (the decode case): the thread's values
    /// <paramref name="v0"/> (column IdxX) and <paramref name="v1"/> (IdxX + DimX) stay in registers, and the weights are
    /// loaded before the reduction, so the row costs one memory wait instead of one per pass. Shared: one float per warp.
    /// </summary>
    private static void ScaleTwo(float v0, float v1, ArrayView<float> w, ArrayView<float> o, long b, int width, float eps, int unitOffset)
    {
        int i0 = Group.IdxX, i1 = i0 + Group.DimX;
        float w0 = i0 < width ? w[i0] : 0f, w1 = i1 < width ? w[i1] : 0f;
        if (unitOffset != 0)
        {
            w0 += 1f;
            w1 += 1f;
        }
        float ss = Reduce.GroupSum(v0 * v0 + v1 * v1, SharedMemory.GetDynamic<float>());
        float inv = 1f / ILGPU.Algorithms.XMath.Sqrt(ss / width + eps);
        if (i0 < width) o[b + i0] = v0 * inv * w0;
        if (i1 < width) o[b + i1] = v1 * inv * w1;
    }

    /// <summary>
    /// The second half of both RMSNorms: the group sums its threads' squares <paramref name="squares"/>, then writes
    /// o = x/rms(x)·w (or ·(1+w)) for row <paramref name="b"/>. Shared: one float per warp.
    /// </summary>
    private static void ScaleRow(ArrayView<float> x, ArrayView<float> w, ArrayView<float> o, long b, int width, float squares, float eps, int unitOffset)
    {
        float ss = Reduce.GroupSum(squares, SharedMemory.GetDynamic<float>());
        float inv = 1f / ILGPU.Algorithms.XMath.Sqrt(ss / width + eps);
        for (int i = Group.IdxX; i < width; i += Group.DimX)
            o[b + i] = x[b + i] * inv * (unitOffset != 0 ? 1f + w[i] : w[i]);
    }

    /// <summary>
    /// L2 norm of each q and k head of the conv output (eps 1e-6 inside the root), q also scaled by 1/sqrt(dk), in place.
    /// One group per (token, head of the 2·keyHeads q|k heads).
    /// </summary>
    public static void QueryKeyL2(ArrayView<float> conv, int channels, int keyHeads, int keyDim, float queryScale)
    {
        var scratch = SharedMemory.GetDynamic<float>();
        int job = Grid.IdxX;
        int t = job / (2 * keyHeads), j = job - t * 2 * keyHeads;
        long b = (long)t * channels + (long)j * keyDim;
        float ss = 0f;
        for (int i = Group.IdxX; i < keyDim; i += Group.DimX)
        {
            float v = conv[b + i];
            ss += v * v;
        }
        ss = Reduce.GroupSum(ss, scratch);
        float inv = 1f / ILGPU.Algorithms.XMath.Sqrt(ss + 1e-6f);
        if (j < keyHeads) inv *= queryScale;
        for (int i = Group.IdxX; i < keyDim; i += Group.DimX) conv[b + i] *= inv;
    }

    /// <summary>
    /// One group per (token, head) of q's heads then k's: the head's values staged in shared memory, RMS-normalised when
    /// that tensor has a norm weight (x·inv·w, as <see cref="RmsNorm"/>), then the first 2·Half dims rotated as
    /// <see cref="ElementwiseKernels.Rope"/> does (rotate-half, the batch's cos/sin tables): the q norm, k norm and the two
    /// RoPE launches of an attention layer in one. Shared: HeadDim floats, one float per warp.
    /// </summary>
    public static void NormRopeHeads(QueryKeyRopeArgs a)
    {
        var shared = SharedMemory.GetDynamic<float>();
        int hd = a.HeadDim, heads = a.QueryHeads + a.KeyHeads, half = a.Half;
        var row = shared.SubView(0, hd);
        var scratch = shared.SubView(hd, Group.DimX / Warp.WarpSize);
        int t = Grid.IdxX / heads, h = Grid.IdxX - t * heads;
        bool query = h < a.QueryHeads;
        var x = query ? a.Query : a.Key;
        var w = query ? a.QueryNorm : a.KeyNorm;
        long b = query ? ((long)t * a.QueryHeads + h) * hd : ((long)t * a.KeyHeads + h - a.QueryHeads) * hd;
        float ss = 0f;
        for (int e = Group.IdxX; e < hd; e += Group.DimX)
        {
            float v = x[b + e];
            row[e] = v;
            ss += v * v;
        }
        // The same branch for the whole group (one head), so the reduction's barriers are reached by every thread.
        if (query ? a.HasQueryNorm != 0 : a.HasKeyNorm != 0)
        {
            float inv = 1f / ILGPU.Algorithms.XMath.Sqrt(Reduce.GroupSum(ss, scratch) / hd + a.Eps);
            for (int e = Group.IdxX; e < hd; e += Group.DimX) row[e] = row[e] * inv * (a.UnitOffset != 0 ? 1f + w[e] : w[e]);
        }
        Group.Barrier();
        for (int e = Group.IdxX; e < hd; e += Group.DimX)
        {
            float v = row[e];
            if (e < 2 * half)
            {
                bool first = e < half;
                int i = first ? e : e - half;
                float c = a.Cos[t * half + i], sn = a.Sin[t * half + i];
                v = first ? v * c - row[e + half] * sn : v * c + row[e - half] * sn;
            }
            x[b + e] = v;
        }
    }

    /// <summary>Gated RMSNorm in place over rows of <paramref name="width"/>: o = o/rms(o)·w·silu(z).</summary>
    public static void GatedRmsNorm(ArrayView<float> o, ArrayView<float> z, ArrayView<float> w, int width, float eps)
    {
        var scratch = SharedMemory.GetDynamic<float>();
        long b = (long)Grid.IdxX * width;
        float ss = 0f;
        for (int i = Group.IdxX; i < width; i += Group.DimX)
        {
            float v = o[b + i];
            ss += v * v;
        }
        ss = Reduce.GroupSum(ss, scratch);
        float inv = 1f / ILGPU.Algorithms.XMath.Sqrt(ss / width + eps);
        for (int i = Group.IdxX; i < width; i += Group.DimX)
            o[b + i] = o[b + i] * inv * w[i] * Reduce.Silu(z[b + i]);
    }
}
