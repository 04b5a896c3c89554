using System.Numerics.Tensors;

namespace Fse.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void RouteSoftmax(Tensor logits, int experts, int topK, bool renormalize, int sharedSlots, Tensor ids, Tensor weights)
    {
        int width = logits.Dim(-1), tokens = checked((int)logits.Rows), slots = topK + sharedSlots;
        RoutingShapes.Check(width, experts, sharedSlots, topK, tokens, slots, ids, weights, sharedColumns: true);
        var l = C(logits).F32;
        var id = C(ids).I32;
        var w = C(weights).F32;
        var p = new float[experts];
        for (int t = 0; t < tokens; t++)
        {
            var row = l.Slice(t * width, width);
            row[..experts].CopyTo(p);
            Numerics.SoftmaxInPlace(p);
            var ti = id.Slice(t * slots, slots);
            var tw = w.Slice(t * slots, slots);
            TopK(p, topK, ti, tw);
            if (renormalize) TensorPrimitives.Divide(tw[..topK], TensorPrimitives.Sum(tw[..topK]), tw[..topK]);
            for (int s = 0; s < sharedSlots; s++)
            {
                ti[topK + s] = experts + s;
                tw[topK + s] = Numerics.Sigmoid(row[experts + s]);
            }
        }
    }

    public void RouteSigmoidGrouped(Tensor logits, Tensor bias, int topK, int groups, int topkGroups, bool renormalize, float scale, int sharedSlots, Tensor ids, Tensor weights)
    {
        int experts = logits.Dim(-1), tokens = checked((int)logits.Rows), slots = topK + sharedSlots;
        RoutingShapes.Check(experts, experts, sharedSlots, topK, tokens, slots, ids, weights, sharedColumns: false);
        if (bias.ElementCount != experts || groups < 1 || experts % groups != 0 || topkGroups < 1 || topkGroups > groups)
            throw new ArgumentException($"Grouped routing of {experts} experts in {groups} groups keeping {topkGroups}, bias {bias}.");
        var l = C(logits).F32;
        var b = C(bias).F32;
        var id = C(ids).I32;
        var w = C(weights).F32;
        int perGroup = experts / groups;
        var scores = new float[experts];
        var choice = new float[experts];
        var groupScore = new float[groups];
        var groupIds = new int[topkGroups];
        var groupVals = new float[topkGroups];
        var keep = new bool[groups];
        for (int t = 0; t < tokens; t++)
        {
            var row = l.Slice(t * experts, experts);
            for (int e = 0; e < experts; e++)
            {
                scores[e] = Numerics.Sigmoid(row[e]);
                choice[e] = scores[e] + b[e];
            }
            for (int gi = 0; gi < groups; gi++)
            {
                var grp = choice.AsSpan(gi * perGroup, perGroup);
                float best = float.NegativeInfinity, second = float.NegativeInfinity;
                foreach (var v in grp)
                {
                    if (v > best) { second = best; best = v; }
                    else if (v > second) second = v;
                }
                groupScore[gi] = perGroup == 1 ? best : best + second;
            }
            TopK(groupScore, topkGroups, groupIds, groupVals);
            Array.Clear(keep);
            foreach (var gi in groupIds) keep[gi] = true;
            for (int e = 0; e < experts; e++)
                if (!keep[e / perGroup]) choice[e] = float.NegativeInfinity;   // transformers 5.x; older versions used 0.0
            var ti = id.Slice(t * slots, slots);
            var tw = w.Slice(t * slots, slots);
            TopK(choice, topK, ti, tw);
            for (int j = 0; j < topK; j++) tw[j] = scores[ti[j]];
            if (renormalize)
            {
                float denom = TensorPrimitives.Sum(tw[..topK]) + 1e-20f;
                TensorPrimitives.Divide(tw[..topK], denom, tw[..topK]);
            }
            TensorPrimitives.Multiply(tw[..topK], scale, tw[..topK]);
            for (int s = 0; s < sharedSlots; s++)
            {
                ti[topK + s] = experts + s;
                tw[topK + s] = 1f;
            }
        }
    }

    /// <summary>The k largest values in descending order; among equal values the lower index first.</summary>
    private static void TopK(ReadOnlySpan<float> values, int k, Span<int> ids, Span<float> top)
    {
        for (int j = 0; j < k; j++) { ids[j] = -1; top[j] = float.NegativeInfinity; }
        for (int e = 0; e < values.Length; e++)
        {
            float v = values[e];
            if (ids[k - 1] >= 0 && !(v > top[k - 1])) continue;
            int pos = k - 1;
            while (pos > 0 && (ids[pos - 1] < 0 || v > top[pos - 1])) pos--;
            for (int j = k - 1; j > pos; j--) { ids[j] = ids[j - 1]; top[j] = top[j - 1]; }
            ids[pos] = e;
            top[pos] = v;
        }
    }

    public ExpertSet CreateExpertSet(IReadOnlyList<ExpertSlot> slots)
    {
        var (width, hidden, _) = ExpertSlot.CheckUniform(slots);
        var made = new List<CpuTensor>();
        CpuTensor Weight(WeightTensor w)
        {
            var t = w.Random is { } r ? (CpuTensor)Upload(r, w.Shape) : CpuTensor.View(w.Host);
            made.Add(t);
            return t;
        }
        try
        {
            var list = slots.Select(s => (Weight(s.Gate), Weight(s.Up), Weight(s.Down))).ToList();
            return new CpuExpertSet(list, hidden, width);
        }
        catch
        {
            foreach (var t in made) t.Dispose();
            throw;
        }
    }

    public void MoeExperts(Tensor x, Tensor ids, Tensor weights, ExpertSet experts, Tensor output)
    {
        var set = experts as CpuExpertSet ?? throw new ArgumentException("The expert set belongs to another backend.");
        int tokens = checked((int)x.Rows), hidden = set.Hidden, width = set.Width, slots = ids.Dim(-1);
        if (x.Dim(-1) != hidden || output.ElementCount != x.ElementCount || ids.Rows != tokens || weights.ElementCount != ids.ElementCount)
            throw Shapes("MoeExperts", x, ids, weights, output);
        var id = C(ids).I32;
        var w = C(weights).F32;
        var xs = C(x).F32;
        var o = C(output).F32;
        o.Clear();

        // Group (token, weight) pairs by slot, then run each slot's MLP over its tokens as one small GEMM.
        var members = new List<(int Token, float Weight)>[set.Slots];
        for (int t = 0; t < tokens; t++)
            for (int j = 0; j < slots; j++)
            {
                int e = id[t * slots + j];
                if ((uint)e >= (uint)set.Slots) throw new ArgumentOutOfRangeException(nameof(ids), $"Expert id {e} outside {set.Slots} slots.");
                (members[e] ??= []).Add((t, w[t * slots + j]));
            }
        for (int e = 0; e < set.Slots; e++)
        {
            var m = members[e];
            if (m is null) continue;
            int n = m.Count;
            var xe = new float[n * hidden];
            for (int i = 0; i < n; i++) xs.Slice(m[i].Token * hidden, hidden).CopyTo(xe.AsSpan(i * hidden));
            var gate = new float[n * width];
            var up = new float[n * width];
            var y = new float[n * hidden];
            var (g, u, d) = set.Weights[e];
            fixed (float* xp = xe, gp = gate, upp = up, yp = y)
            {
                Gemm.Run(xp, n, new WeightRows(g), null, gp);
                Gemm.Run(xp, n, new WeightRows(u), null, upp);
                for (int i = 0; i < gate.Length; i++) gate[i] = Numerics.Silu(gate[i]) * up[i];
                Gemm.Run(gp, n, new WeightRows(d), null, yp);
            }
            for (int i = 0; i < n; i++)
            {
                var dst = o.Slice(m[i].Token * hidden, hidden);
                TensorPrimitives.MultiplyAdd(y.AsSpan(i * hidden, hidden), m[i].Weight, dst, dst);
            }
        }
    }

    /// <summary>The slots' matrices: views of a checkpoint (disposing them frees nothing) or drawn ones it owns.</summary>
    private sealed class CpuExpertSet(List<(CpuTensor Gate, CpuTensor Up, CpuTensor Down)> weights, int hidden, int width)
        : ExpertSet(weights.Count, hidden, width)
    {
        public List<(CpuTensor Gate, CpuTensor Up, CpuTensor Down)> Weights { get; } = weights;

        public override void Dispose()
        {
            foreach (var (g, u, d) in Weights)
            {
                g.Dispose();
                u.Dispose();
                d.Dispose();
            }
            Weights.Clear();
        }
    }
}
