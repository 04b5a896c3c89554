using ILGPU;

namespace Fse.Kernels.Cuda.Device;

/// <summary>Warp and group reductions for kernels whose group size is any multiple of the warp size.</summary>
public static class Reduce
{
    /// <summary>Sum over the warp; every lane gets the result.</summary>
    public static float WarpSum(float v)
    {
        for (int o = Warp.WarpSize / 2; o > 0; o >>= 1) v += Warp.ShuffleXor(v, o);
        return v;
    }

    public static float WarpMax(float v)
    {
        for (int o = Warp.WarpSize / 2; o > 0; o >>= 1)
        {
            float u = Warp.ShuffleXor(v, o);
            v = u > v ? u : v;
        }
        return v;
    }

    /// <summary>Exclusive prefix sum over the warp in lane order; <paramref name="total"/> gets the warp's sum.</summary>
    public static int WarpExclusiveScan(int v, out int total)
    {
        int lane = Warp.LaneIdx, inclusive = v;
        for (int o = 1; o < Warp.WarpSize; o <<= 1)
        {
            int n = Warp.ShuffleUp(inclusive, o);
            if (lane >= o) inclusive += n;
        }
        total = Warp.Shuffle(inclusive, Warp.WarpSize - 1);
        return inclusive - v;
    }

    /// <summary>
    /// Bitonic sort of one (value, index) pair per lane by <see cref="Before"/>: afterwards lane r holds the pair of rank r
    /// (lane 0 the best). log2(warp)·(log2(warp) + 1)/2 exchange steps, each two shuffles.
    /// </summary>
    public static void WarpSortBefore(ref float v, ref int i)
    {
        int lane = Warp.LaneIdx;
        for (int size = 2; size <= Warp.WarpSize; size <<= 1)
            for (int stride = size >> 1; stride > 0; stride >>= 1)
            {
                float ov = Warp.ShuffleXor(v, stride);
                int oi = Warp.ShuffleXor(i, stride);
                // Blocks of `size` lanes alternate direction; the warp-wide last pass puts the best first.
                bool bestFirst = (lane & size) == 0, lowerLane = (lane & stride) == 0;
                bool otherBefore = Before(ov, oi, v, i), otherAfter = Before(v, i, ov, oi);
                bool take = lowerLane == bestFirst ? otherBefore : otherAfter;
                v = take ? ov : v;
                i = take ? oi : i;
            }
    }

    /// <summary>Sum over the group; every thread gets the result. <paramref name="scratch"/>: shared, one float per warp.</summary>
    public static float GroupSum(float v, ArrayView<float> scratch)
    {
        v = WarpSum(v);
        Group.Barrier();
        if (Warp.LaneIdx == 0) scratch[Warp.WarpIdx] = v;
        Group.Barrier();
        // Every warp sums the warps' partials with shuffles, not one shared read after another.
        float s = 0f;
        int warps = Group.DimX / Warp.WarpSize;
        for (int i = Warp.LaneIdx; i < warps; i += Warp.WarpSize) s += scratch[i];
        return WarpSum(s);
    }

    public static float GroupMax(float v, ArrayView<float> scratch)
    {
        v = WarpMax(v);
        Group.Barrier();
        if (Warp.LaneIdx == 0) scratch[Warp.WarpIdx] = v;
        Group.Barrier();
        float m = float.NegativeInfinity;
        int warps = Group.DimX / Warp.WarpSize;
        for (int i = Warp.LaneIdx; i < warps; i += Warp.WarpSize) m = scratch[i] > m ? scratch[i] : m;
        return WarpMax(m);
    }

    /// <summary>Whether (v, i) ranks before (bestV, bestI): larger value first, the lower index among equals. Non-short-circuit, so no branches.</summary>
    public static bool Before(float v, int i, float bestV, int bestI) => (v > bestV) | ((v == bestV) & (i < bestI));

    /// <summary>The warp's best (value, index) pair by <see cref="Before"/>; every lane gets it.</summary>
    public static void WarpArgMax(ref float v, ref int i)
    {
        for (int o = Warp.WarpSize / 2; o > 0; o >>= 1)
        {
            float ov = Warp.ShuffleXor(v, o);
            int oi = Warp.ShuffleXor(i, o);
            if (Before(ov, oi, v, i)) { v = ov; i = oi; }
        }
    }

    /// <summary>
    /// The group's best (value, index) pair by <see cref="Before"/>; every thread gets it.
    /// <paramref name="values"/> and <paramref name="indices"/>: shared, one entry per warp.
    /// </summary>
    public static void GroupArgMax(ref float v, ref int i, ArrayView<float> values, ArrayView<int> indices)
    {
        WarpArgMax(ref v, ref i);
        Group.Barrier();
        if (Warp.LaneIdx == 0)
        {
            values[Warp.WarpIdx] = v;
            indices[Warp.WarpIdx] = i;
        }
        Group.Barrier();
        v = values[0];
        i = indices[0];
        int warps = Group.DimX / Warp.WarpSize;
        for (int w = 1; w < warps; w++)
            if (Before(values[w], indices[w], v, i)) { v = values[w]; i = indices[w]; }
    }

    /// <summary>Exclusive prefix sum over the group in thread order; <paramref name="total"/> gets the group's sum. Shared scratch: one int per warp.</summary>
    public static int GroupExclusiveScan(int v, ArrayView<int> scratch, out int total)
    {
        int lane = Warp.LaneIdx, inclusive = v;
        for (int o = 1; o < Warp.WarpSize; o <<= 1)
        {
            int n = Warp.ShuffleUp(inclusive, o);
            if (lane >= o) inclusive += n;
        }
        Group.Barrier();
        if (lane == Warp.WarpSize - 1) scratch[Warp.WarpIdx] = inclusive;
        Group.Barrier();
        int before = 0;
        total = 0;
        int warps = Group.DimX / Warp.WarpSize;
        for (int w = 0; w < warps; w++)
        {
            if (w < Warp.WarpIdx) before += scratch[w];
            total += scratch[w];
        }
        return before + inclusive - v;
    }

    public static float Sigmoid(float x) => 1f / (1f + ILGPU.Algorithms.XMath.Exp(-x));

    public static float Silu(float x) => x / (1f + ILGPU.Algorithms.XMath.Exp(-x));

    public static float Softplus(float x) => x > 20f ? x : ILGPU.Algorithms.XMath.Log(1f + ILGPU.Algorithms.XMath.Exp(x));
}
