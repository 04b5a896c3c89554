using ILGPU;
using ILGPU.Algorithms;

namespace Fse.Kernels.Cuda.Device;

public struct RoutingArgs
{
    public ArrayView<float> Logits, Bias, Weights;
    public ArrayView<int> Ids;
    public int Tokens, Width, Experts, TopK, SharedSlots, Renormalize, Groups, TopkGroups;
    public float Scale;
}

/// <summary>The fused routers, one launch per op; ties go to the lower expert index.</summary>
public static class RoutingKernels
{
    /// <summary>Logits a lane of <see cref="Softmax"/> loads before it waits on memory (512 experts: one wait).</summary>
    private const int LoadsInFlight = 16;

    /// <summary>
    /// softmax over the first E logits, top-k, optional renormalisation, then the shared slots' sigmoid gates. One warp
    /// per token, no group barriers and no k rounds of arg-max (each round was a dependent chain of shuffles, ~1.5 µs
    /// for E = 512). Softmax is monotonic, so the top-k of the logits is the top-k of the probabilities, ties included
    /// (the lower index first), and only the chosen experts' probabilities are needed:
    /// <list type="number">
    /// <item>lane L loads experts L, L + 32, … into the warp's shared row and keeps their best;</item>
    /// <item>τ = the k-th best of the 32 lanes' bests (a bitonic sort across the lanes): at least k experts rank at or above τ, so every expert of the
    /// top-k does (when k exceeds the warp, every expert is a candidate);</item>
    /// <item>the candidates (experts at or above τ; about k of them) are compacted into a shared list; up to a warp of
    /// them are sorted across the lanes (lane r then holds rank r, and r &lt; k writes slot r), more are each ranked by
    /// counting the candidates before it.</item>
    /// </list>
    /// Weights: e^(l − max) over the chosen sum when renormalising (the same value as p / Σ p), else over the sum of all E.
    /// Shared per warp: logits [E], candidate values [E], indices [E] and ranks [E].
    /// </summary>
    public static void Softmax(RoutingArgs a)
    {
        int e = a.Experts, k = a.TopK, ws = Warp.WarpSize, lane = Warp.LaneIdx, slots = k + a.SharedSlots;
        int warps = Group.DimX / ws;
        long t = (long)Grid.IdxX * warps + Warp.WarpIdx;
        if (t >= a.Tokens) return;
        var mine = SharedMemory.GetDynamic<float>().SubView(Warp.WarpIdx * 4 * e, 4 * e);
        var logit = mine.SubView(0, e);
        var candV = mine.SubView(e, e);
        var candI = mine.SubView(2 * e, e).Cast<int>();
        var candRank = mine.SubView(3 * e, e).Cast<int>();
        long row = t * a.Width, outBase = t * slots;

        float bestV = float.NegativeInfinity;
        int bestI = int.MaxValue;
        for (int i = lane; i < e; i += LoadsInFlight * ws)
        {
            float v0 = Logit(a, row, i), v1 = Logit(a, row, i + ws), v2 = Logit(a, row, i + 2 * ws), v3 = Logit(a, row, i + 3 * ws);
            float v4 = Logit(a, row, i + 4 * ws), v5 = Logit(a, row, i + 5 * ws), v6 = Logit(a, row, i + 6 * ws), v7 = Logit(a, row, i + 7 * ws);
            float v8 = Logit(a, row, i + 8 * ws), v9 = Logit(a, row, i + 9 * ws), v10 = Logit(a, row, i + 10 * ws), v11 = Logit(a, row, i + 11 * ws);
            float v12 = Logit(a, row, i + 12 * ws), v13 = Logit(a, row, i + 13 * ws), v14 = Logit(a, row, i + 14 * ws), v15 = Logit(a, row, i + 15 * ws);
            Keep(logit, i, v0, e, ref bestV, ref bestI);
            Keep(logit, i + ws, v1, e, ref bestV, ref bestI);
            Keep(logit, i + 2 * ws, v2, e, ref bestV, ref bestI);
            Keep(logit, i + 3 * ws, v3, e, ref bestV, ref bestI);
            Keep(logit, i + 4 * ws, v4, e, ref bestV, ref bestI);
            Keep(logit, i + 5 * ws, v5, e, ref bestV, ref bestI);
            Keep(logit, i + 6 * ws, v6, e, ref bestV, ref bestI);
            Keep(logit, i + 7 * ws, v7, e, ref bestV, ref bestI);
            Keep(logit, i + 8 * ws, v8, e, ref bestV, ref bestI);
            Keep(logit, i + 9 * ws, v9, e, ref bestV, ref bestI);
            Keep(logit, i + 10 * ws, v10, e, ref bestV, ref bestI);
            Keep(logit, i + 11 * ws, v11, e, ref bestV, ref bestI);
            Keep(logit, i + 12 * ws, v12, e, ref bestV, ref bestI);
            Keep(logit, i + 13 * ws, v13, e, ref bestV, ref bestI);
            Keep(logit, i + 14 * ws, v14, e, ref bestV, ref bestI);
            Keep(logit, i + 15 * ws, v15, e, ref bestV, ref bestI);
        }
        float max = Reduce.WarpMax(bestV);

        // τ: the lane best ranked k − 1 among the lanes' bests (ranks are distinct: the indices are).
        float tauV = float.NegativeInfinity;
        int tauI = int.MaxValue;
        if (k <= ws)
        {
            float sv = bestV;
            int si = bestI;
            Reduce.WarpSortBefore(ref sv, ref si);
            tauV = Warp.Shuffle(sv, k - 1);
            tauI = Warp.Shuffle(si, k - 1);
        }

        int count = 0;
        for (int i = lane; i < e; i += ws) count += Reduce.Before(tauV, tauI, logit[i], i) ? 0 : 1;
        int at = Reduce.WarpExclusiveScan(count, out int candidates);
        for (int i = lane; i < e; i += ws)
            if (!Reduce.Before(tauV, tauI, logit[i], i))
            {
                candV[at] = logit[i];
                candI[at] = i;
                at++;
            }
        Warp.Barrier();

        float sum;
        if (candidates <= ws)
        {
            // One candidate per lane, sorted: lane r holds rank r.
            float cv = lane < candidates ? candV[lane] : float.NegativeInfinity;
            int ci = lane < candidates ? candI[lane] : int.MaxValue;
            Reduce.WarpSortBefore(ref cv, ref ci);
            float p = lane < k ? XMath.Exp(cv - max) : 0f;
            sum = a.Renormalize != 0 ? Reduce.WarpSum(p) : AllExpSum(logit, e, max);
            if (lane < k)
            {
                a.Ids[outBase + lane] = ci;
                a.Weights[outBase + lane] = p / sum;
            }
        }
        else
        {
            float chosenSum = 0f;
            for (int j = lane; j < candidates; j += ws)
            {
                float v = candV[j];
                int i = candI[j], r = 0;
                for (int c = 0; c < candidates; c++) r += Reduce.Before(candV[c], candI[c], v, i) ? 1 : 0;
                candRank[j] = r;
                if (r < k)
                {
                    a.Ids[outBase + r] = i;
                    chosenSum += XMath.Exp(v - max);
                }
            }
            sum = a.Renormalize != 0 ? Reduce.WarpSum(chosenSum) : AllExpSum(logit, e, max);
            for (int j = lane; j < candidates; j += ws)
                if (candRank[j] < k) a.Weights[outBase + candRank[j]] = XMath.Exp(candV[j] - max) / sum;
        }
        for (int s = lane; s < a.SharedSlots; s += ws)
        {
            a.Ids[outBase + k + s] = e + s;
            a.Weights[outBase + k + s] = Reduce.Sigmoid(a.Logits[row + e + s]);
        }
    }

    /// <summary>Σ e^(l − max) over all <paramref name="e"/> logits of the warp's shared row; every lane gets it.</summary>
    private static float AllExpSum(ArrayView<float> logit, int e, float max)
    {
        float all = 0f;
        for (int i = Warp.LaneIdx; i < e; i += Warp.WarpSize) all += XMath.Exp(logit[i] - max);
        return Reduce.WarpSum(all);
    }

    private static float Logit(RoutingArgs a, long row, int i) => i < a.Experts ? a.Logits[row + i] : float.NegativeInfinity;

    private static void Keep(ArrayView<float> logit, int i, float v, int e, ref float bestV, ref int bestI)
    {
        if (i >= e) return;
        logit[i] = v;
        bool better = Reduce.Before(v, i, bestV, bestI);
        bestV = better ? v : bestV;
        bestI = better ? i : bestI;
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
