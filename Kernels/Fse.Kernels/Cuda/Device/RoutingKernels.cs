using ILGPU;
using ILGPU.Algorithms;

namespace Fse.Kernels.Cuda.Device;

public struct RoutingArgs
{
    public ArrayView<float> Logits, Bias, Weights;
    public ArrayView<int> Ids;
    public int Width, Experts, TopK, SharedSlots, Renormalize, Groups, TopkGroups;
    public float Scale;
}

/// <summary>
/// The fused routers: one group per token, one launch per op. Top-k is k rounds of a group arg-max (larger value first,
/// the lower index among equals), each round removing its winner. Shared memory holds the token's E scores.
/// </summary>
public static class RoutingKernels
{
    /// <summary>softmax over the first E logits, top-k, optional renormalisation, then the shared slots' sigmoid gates.</summary>
    public static void Softmax(RoutingArgs a)
    {
        int e = a.Experts, warps = Group.DimX / Warp.WarpSize, tid = Group.IdxX, slots = a.TopK + a.SharedSlots;
        var shared = SharedMemory.GetDynamic<float>();
        var p = shared.SubView(0, e);
        var red = shared.SubView(e, warps);
        var chosen = shared.SubView(e + warps, a.TopK);
        var idx = shared.Cast<int>().SubView(e + warps + a.TopK, warps);
        long t = Grid.IdxX;
        long row = t * a.Width;

        float max = float.NegativeInfinity;
        for (int i = tid; i < e; i += Group.DimX)
        {
            float v = a.Logits[row + i];
            p[i] = v;
            max = v > max ? v : max;
        }
        max = Reduce.GroupMax(max, red);
        float sum = 0f;
        for (int i = tid; i < e; i += Group.DimX)
        {
            float x = XMath.Exp(p[i] - max);
            p[i] = x;
            sum += x;
        }
        sum = Reduce.GroupSum(sum, red);
        for (int i = tid; i < e; i += Group.DimX) p[i] /= sum;
        Group.Barrier();

        SelectTopK(p, p, e, a.TopK, chosen, a.Ids, t * slots, red, idx);
        if (tid == 0) WriteWeights(chosen, a.TopK, a.Renormalize != 0, 0f, 1f, a.Weights, t * slots);
        for (int s = tid; s < a.SharedSlots; s += Group.DimX)
        {
            a.Ids[t * slots + a.TopK + s] = e + s;
            a.Weights[t * slots + a.TopK + s] = Reduce.Sigmoid(a.Logits[row + e + s]);
        }
    }

    /// <summary>
    /// DeepSeek/GLM: scores = sigmoid(logits); choice = scores + bias; groups ranked by the sum of their two best choices
    /// (the best alone for one-expert groups); choices outside the best TopkGroups groups masked out (-inf); top-k of the choices,
    /// weighted by the unbiased scores (renormalised with + 1e-20 when asked) times Scale; shared slots weigh 1.
    /// Shared: scores [E], choice [E], group scores [G], kept flags [G] and the reduction scratch.
    /// </summary>
    public static void SigmoidGrouped(RoutingArgs a)
    {
        int e = a.Experts, g = a.Groups, per = e / g, warps = Group.DimX / Warp.WarpSize, tid = Group.IdxX;
        int slots = a.TopK + a.SharedSlots;
        var shared = SharedMemory.GetDynamic<float>();
        var scores = shared.SubView(0, e);
        var choice = shared.SubView(e, e);
        var groupScore = shared.SubView(2 * e, g);
        var keep = shared.Cast<int>().SubView(2 * e + g, g);
        var red = shared.SubView(2 * e + 2 * g, warps);
        var idx = shared.Cast<int>().SubView(2 * e + 2 * g + warps, warps);
        var chosen = shared.SubView(2 * e + 2 * g + 2 * warps, a.TopK);
        long t = Grid.IdxX;
        long row = t * a.Width;

        for (int i = tid; i < e; i += Group.DimX)
        {
            float sc = Reduce.Sigmoid(a.Logits[row + i]);
            scores[i] = sc;
            choice[i] = sc + a.Bias[i];
        }
        Group.Barrier();
        for (int gi = tid; gi < g; gi += Group.DimX)
        {
            float best = float.NegativeInfinity, second = float.NegativeInfinity;
            for (int i = 0; i < per; i++)
            {
                float v = choice[gi * per + i];
                if (v > best) { second = best; best = v; }
                else if (v > second) second = v;
            }
            groupScore[gi] = per == 1 ? best : best + second;
            keep[gi] = 0;
        }
        Group.Barrier();
        if (tid == 0)
        {
            for (int r = 0; r < a.TopkGroups; r++)
            {
                int bi = -1;
                float bv = float.NegativeInfinity;
                for (int gi = 0; gi < g; gi++)
                    if (keep[gi] == 0 && (bi < 0 || groupScore[gi] > bv)) { bi = gi; bv = groupScore[gi]; }
                keep[bi] = 1;
            }
        }
        Group.Barrier();
        for (int i = tid; i < e; i += Group.DimX)
            if (keep[i / per] == 0) choice[i] = float.NegativeInfinity;   // transformers 5.x; older versions used 0.0
        Group.Barrier();

        SelectTopK(choice, scores, e, a.TopK, chosen, a.Ids, t * slots, red, idx);
        if (tid == 0) WriteWeights(chosen, a.TopK, a.Renormalize != 0, 1e-20f, a.Scale, a.Weights, t * slots);
        for (int s = tid; s < a.SharedSlots; s += Group.DimX)
        {
            a.Ids[t * slots + a.TopK + s] = e + s;
            a.Weights[t * slots + a.TopK + s] = 1f;
        }
    }

    /// <summary>k rounds of group arg-max over <paramref name="rank"/> (winners removed); chosen[j] = weightOf[winner].</summary>
    private static void SelectTopK(ArrayView<float> rank, ArrayView<float> weightOf, int e, int k, ArrayView<float> chosen,
        ArrayView<int> ids, long outBase, ArrayView<float> red, ArrayView<int> idx)
    {
        for (int j = 0; j < k; j++)
        {
            float bv = float.NegativeInfinity;
            int bi = int.MaxValue;
            for (int i = Group.IdxX; i < e; i += Group.DimX)
                if (Reduce.Before(rank[i], i, bv, bi)) { bv = rank[i]; bi = i; }
            Reduce.GroupArgMax(ref bv, ref bi, red, idx);
            if (Group.IdxX == 0)
            {
                ids[outBase + j] = bi;
                chosen[j] = weightOf[bi];
                rank[bi] = float.NegativeInfinity;
            }
            Group.Barrier();
        }
    }

    private static void WriteWeights(ArrayView<float> chosen, int k, bool renormalize, float epsilon, float scale, ArrayView<float> weights, long outBase)
    {
        float sum = epsilon;
        for (int j = 0; j < k; j++) sum += chosen[j];
        for (int j = 0; j < k; j++) weights[outBase + j] = (renormalize ? chosen[j] / sum : chosen[j]) * scale;
    }
}
