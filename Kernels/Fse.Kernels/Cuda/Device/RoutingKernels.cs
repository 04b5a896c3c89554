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
/// The fused routers: one group per token, one launch per op. Shared memory holds the token's E scores; top-k counts
/// ranks in parallel above a threshold (see SelectTopK) instead of k sequential arg-max rounds.
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
        var bucket = shared.Cast<int>().SubView(e + warps + a.TopK, a.TopK);
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

        SelectTopK(p, p, e, a.TopK, chosen, a.Ids, t * slots, bucket);
        if (tid == 0) WriteWeights(chosen, a.TopK, a.Renormalize != 0, 0f, 1f, a.Weights, t * slots);
        for (int s = tid; s < a.SharedSlots; s += Group.DimX)
        {
            a.Ids[t * slots + a.TopK + s] = e + s;
            a.Weights[t * slots + a.TopK + s] = Reduce.Sigmoid(a.Logits[row + e + s]);
        }
    }

    /// <summary>
    /// DeepSeek/GLM: scores = sigmoid(logits); choice = scores + bias; groups ranked by the sum of their two best choices
    /// (the best alone for one-expert groups); choices outside the best TopkGroups groups set to 0; top-k of the choices,
    /// weighted by the unbiased scores (renormalised with + 1e-20 when asked) times Scale; shared slots weigh 1.
    /// Shared: scores [E], choice [E], group scores [G], kept flags [G] and the reduction scratch.
    /// </summary>
    public static void SigmoidGrouped(RoutingArgs a)
    {
        int e = a.Experts, g = a.Groups, per = e / g, tid = Group.IdxX;
        int slots = a.TopK + a.SharedSlots;
        var shared = SharedMemory.GetDynamic<float>();
        var scores = shared.SubView(0, e);
        var choice = shared.SubView(e, e);
        var groupScore = shared.SubView(2 * e, g);
        var keep = shared.Cast<int>().SubView(2 * e + g, g);
        var chosen = shared.SubView(2 * e + 2 * g, a.TopK);
        var bucket = shared.Cast<int>().SubView(2 * e + 2 * g + a.TopK, a.TopK);
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
            if (keep[i / per] == 0) choice[i] = 0f;      // HF masks dropped groups with 0.0, not -inf
        Group.Barrier();

        SelectTopK(choice, scores, e, a.TopK, chosen, a.Ids, t * slots, bucket);
        if (tid == 0) WriteWeights(chosen, a.TopK, a.Renormalize != 0, 1e-20f, a.Scale, a.Weights, t * slots);
        for (int s = tid; s < a.SharedSlots; s += Group.DimX)
        {
            a.Ids[t * slots + a.TopK + s] = e + s;
            a.Weights[t * slots + a.TopK + s] = 1f;
        }
    }

    /// <summary>
    /// Top-k of <paramref name="rank"/> (larger first, the lower index among equals) by rank counting, with no
    /// sequential rounds. A threshold first: the smallest of the maxima of k buckets (i mod k) is at most the k-th
    /// largest value, so only elements at or above it can be chosen. Each such element counts the elements ranked before
    /// it (stopping at k) and, when fewer than k, writes itself at that position: ranks are distinct, so every position
    /// is written once. NaN counts as −∞ and −0 as +0 so the order is total. chosen[j] = weightOf[winner j],
    /// ids[outBase + j] = winner j. Shared: <paramref name="bucket"/>, k ints.
    /// </summary>
    private static void SelectTopK(ArrayView<float> rank, ArrayView<float> weightOf, int e, int k, ArrayView<float> chosen,
        ArrayView<int> ids, long outBase, ArrayView<int> bucket)
    {
        for (int b = Group.IdxX; b < k; b += Group.DimX) bucket[b] = int.MinValue;
        for (int i = Group.IdxX; i < e; i += Group.DimX)
        {
            float v = rank[i];
            rank[i] = float.IsNaN(v) ? float.NegativeInfinity : v == 0f ? 0f : v;
        }
        Group.Barrier();
        for (int i = Group.IdxX; i < e; i += Group.DimX) Atomic.Max(ref bucket[i % k], OrderedKey(rank[i]));
        Group.Barrier();
        int threshold = int.MaxValue;
        for (int b = 0; b < k; b++) threshold = bucket[b] < threshold ? bucket[b] : threshold;
        for (int i = Group.IdxX; i < e; i += Group.DimX)
        {
            float v = rank[i];
            if (OrderedKey(v) < threshold) continue;
            int before = 0;
            for (int j = 0; j < e && before < k; j++)
                if (Reduce.Before(rank[j], j, v, i)) before++;
            if (before < k)
            {
                ids[outBase + before] = i;
                chosen[before] = weightOf[i];
            }
        }
        Group.Barrier();
    }

    /// <summary>An int whose signed order is the float order (for atomic max on floats).</summary>
    private static int OrderedKey(float v)
    {
        int bits = (int)Interop.FloatAsInt(v);
        return bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
    }

    private static void WriteWeights(ArrayView<float> chosen, int k, bool renormalize, float epsilon, float scale, ArrayView<float> weights, long outBase)
    {
        float sum = epsilon;
        for (int j = 0; j < k; j++) sum += chosen[j];
        for (int j = 0; j < k; j++) weights[outBase + j] = (renormalize ? chosen[j] / sum : chosen[j]) * scale;
    }
}
