using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;
using Fse.Runtime.Weights;

namespace Fse.Runtime.Moe;

/// <summary>
/// The weight plan of one MoE layer (SEMANTICS.md §2). FSE off: router [E, H], E expert slots, the shared MLP and
/// its gate kept apart. FSE on: router [E+S, H] (Qwen: W_gate stacked with the shared gate once per slot; GLM:
/// W_gate, its shared slots have weight 1), and E+S expert slots, the shared MLP split along its width into S
/// chunks of the routed width (gate/up by rows, down by columns; the last chunk zero-padded, exact because
/// silu(0)·0 = 0). <c>shared_expert_gate</c> is never remapped into an expert slot.
/// </summary>
public static class MoeWeightPlan
{
    internal static (MoeRouter Router, MoeRunner Runner) Build(ModelConfig c, WeightLoader w, string prefix, FseMode fse, Action<IDisposable> own,
        WeightPlanOptions? options = null)
    {
        int h = c.HiddenSize, e = c.NumExperts, width = c.MoeIntermediateSize;
        var slots = new List<ExpertSlot>(e + c.SharedExpertSlots);
        for (int i = 0; i < e; i++) slots.Add(RoutedExpert(w, prefix, i, e, h, width));

        string sharedPrefix = prefix + (c.Scoring == RouterScoring.Softmax ? "shared_expert." : "shared_experts.");
        int sharedWidth = c.SharedExpertIntermediateSize;
        bool hasShared = sharedWidth > 0;
        var gateWeight = w.Weight(prefix + "gate.weight", e, h);
        Tensor? bias = c.Scoring == RouterScoring.SigmoidGrouped ? w.Vector(prefix + "gate.e_score_correction_bias", e) : null;
        WeightTensor? sharedGateWeight = hasShared && c.SharedExpertGate ? w.Weight(prefix + "shared_expert_gate.weight", 1, h) : (WeightTensor?)null;

        if (fse == FseMode.On && hasShared)
        {
            int s = c.SharedExpertSlots;
            var sg = w.Weight(sharedPrefix + "gate_proj.weight", sharedWidth, h);
            var su = w.Weight(sharedPrefix + "up_proj.weight", sharedWidth, h);
            var sd = w.Weight(sharedPrefix + "down_proj.weight", h, sharedWidth);
            for (int j = 0; j < s; j++)
            {
                int start = j * width, count = Math.Min(width, sharedWidth - start);
                slots.Add(new ExpertSlot(w.RowChunk(sg, start, count, width), w.RowChunk(su, start, count, width), w.ColumnChunk(sd, start, count, width)));
            }
            Tensor routerWeight = sharedGateWeight is { } g
                ? w.StackRows([new RowBlock(gateWeight), .. Enumerable.Repeat(new RowBlock(Cast(g, gateWeight.DType, w)), s)])
                : w.Keep(w.Backend.Upload(gateWeight));
            var experts = w.Backend.CreateExpertSet(slots);
            own(experts);
            if (options?.DropSharedExpertSlots == true)
                return (new MoeRouter(c, w.Keep(w.Backend.Upload(gateWeight)), bias, 0), new MoeRunner(experts, null, null));
            return (new MoeRouter(c, routerWeight, bias, s), new MoeRunner(experts, null, null));
        }
        else
        {
            var experts = w.Backend.CreateExpertSet(slots);
            own(experts);
            var router = new MoeRouter(c, w.Keep(w.Backend.Upload(gateWeight)), bias, 0);
            DenseMlp? shared = hasShared ? new DenseMlp(w, sharedPrefix, h, sharedWidth) : null;
            Tensor? sharedGate = sharedGateWeight is { } sgw ? w.Keep(w.Backend.Upload(sgw)) : null;
            return (router, new MoeRunner(experts, shared, sharedGate));
        }
    }

    /// <summary>Routed expert e: per-expert hub tensors, or transformers-5 packed gate_up_proj/down_proj if that is what the files hold.</summary>
    private static ExpertSlot RoutedExpert(WeightLoader w, string prefix, int e, int experts, int h, int width)
    {
        string per = $"{prefix}experts.{e}.";
        if (!w.Has(per + "gate_proj.weight") && w.Has(prefix + "experts.gate_up_proj"))
        {
            var gateUp = w.Weight(prefix + "experts.gate_up_proj", experts, 2 * width, h);
            var down = w.Weight(prefix + "experts.down_proj", experts, h, width);
            return new ExpertSlot(WeightLoader.SubTensor(gateUp, e, 0, width), WeightLoader.SubTensor(gateUp, e, width, width), WeightLoader.SubTensor(down, e, 0, h));
        }
        return new ExpertSlot(w.Weight(per + "gate_proj.weight", width, h), w.Weight(per + "up_proj.weight", width, h), w.Weight(per + "down_proj.weight", h, width));
    }

    /// <summary>The shared gate row in the router's dtype (checkpoints may store it differently).</summary>
    private static WeightTensor Cast(WeightTensor weight, DType dtype, WeightLoader w)
    {
        if (weight.DType == dtype) return weight;
        var t = w.Bytes(weight);
        var values = new float[t.ElementCount];
        WeightLoader.ToF32(t, values);
        return w.FromF32(values, dtype, t.Shape);
    }
}

/// <summary>
/// Deliberate deviations from the weight plan, for tests only: each recreates a failure SEMANTICS.md §2 says must be
/// caught, so a test can show that its check catches it.
/// </summary>
internal sealed record WeightPlanOptions
{
    /// <summary>
    /// FSE on, but the routing output has only the k routed slots: the shared expert sits in its expert slots and
    /// is never selected, and nothing runs it beside them. The model silently loses the shared expert.
    /// </summary>
    public bool DropSharedExpertSlots { get; init; }
}
