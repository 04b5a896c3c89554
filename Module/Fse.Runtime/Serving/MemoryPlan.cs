using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;

namespace Fse.Runtime.Serving;

/// <summary>A device's memory would not hold the model, its sequence states and one full-length sequence's KV cache.</summary>
public sealed class MemoryPlanException(string message) : Exception(message);

/// <summary>
/// How a GPU's memory is split before anything loads (vLLM's <c>--gpu-memory-utilization</c>): the budget is that share of
/// the card; the weights (with FSE's padded shared-expert slots and fused gate rows), every linear-attention state slot
/// and the step workspace come first, and the KV cache gets what is left, in whole blocks, never more than every
/// sequence at full length needs. A plan with no room for one full-length sequence is an error before serving.
/// </summary>
public sealed record MemoryPlan(long DeviceBytes, double Utilization, long WeightBytes, long StateBytes, long WorkspaceBytes, long KvBytes, int NumBlocks)
{
    public long BudgetBytes => (long)(DeviceBytes * Utilization);

    public static MemoryPlan Create(ModelConfig c, FseMode fse, EngineOptions o, long deviceBytes, double utilization)
    {
        if (!(utilization > 0 && utilization <= 1)) throw new ArgumentOutOfRangeException(nameof(utilization), utilization, "The memory utilization must lie in (0, 1].");
        long budget = (long)(deviceBytes * utilization);
        long weights = WeightsOf(c, fse);
        long states = (long)o.MaxNumSeqs * ModelState.BytesPerStateSlot(c);
        long workspace = WorkspaceOf(c, o);
        long perBlock = Math.Max(1, ModelState.BytesPerBlock(c, o.BlockSize));
        long perSeq = o.BlocksPerSequence(c);
        long kv = budget - weights - states - workspace;
        long blocks = Math.Min(Math.Max(0, kv) / perBlock, perSeq * o.MaxNumSeqs);
        if (blocks < perSeq)
            throw new MemoryPlanException(
                $"Out of memory: {Gb(budget)} GB ({utilization:P0} of {Gb(deviceBytes)} GB) cannot hold the weights ({Gb(weights)} GB), " +
                $"{o.MaxNumSeqs} sequence states ({Gb(states)} GB), the step workspace ({Gb(workspace)} GB) and the KV cache of one " +
                $"{o.ResolveMaxModelLen(c)}-token sequence ({Gb(perSeq * perBlock)} GB). Lower --max-num-seqs, --max-model-len or " +
                "--max-num-batched-tokens, raise --gpu-memory-utilization, or load fewer layers.");
        return new MemoryPlan(deviceBytes, utilization, weights, states, workspace, blocks * perBlock, (int)blocks);
    }

    /// <summary>The checkpoint's bytes plus, with FSE on, the zero padding of the shared-expert slots and the fused gate's extra rows.</summary>
    public static long WeightsOf(ModelConfig c, FseMode fse)
    {
        long bytes = ParameterCount.Bytes(c);
        if (fse == FseMode.Off || c.SharedExpertSlots == 0) return bytes;
        int moeLayers = Enumerable.Range(0, c.NumLayers).Count(i => c.FeedForwardOf(i) == FeedForwardKind.Moe);
        long h = c.HiddenSize, padded = (long)c.SharedExpertSlots * c.MoeIntermediateSize;
        long slots = 3 * h * (padded - c.SharedExpertIntermediateSize);
        long gateRows = c.SharedExpertGate ? (c.SharedExpertSlots - 1) * h : 0;
        return bytes + moeLayers * (slots + gateRows) * c.BytesPerElement;
    }

    /// <summary>
    /// A generous bound on one step's activations at max-num-batched-tokens (residual, norms, projections, the routed and
    /// shared expert intermediates, attention and DeltaNet buffers, all F32), the sampled logit rows, and 256 MiB for
    /// library workspaces (cuBLAS).
    /// </summary>
    public static long WorkspaceOf(ModelConfig c, EngineOptions o)
    {
        long t = o.MaxNumBatchedTokens, h = c.HiddenSize;
        long attention = 3L * c.NumHeads * c.HeadDim + 2L * c.NumKvHeads * c.HeadDim;
        long linear = 2L * c.LinearNumKeyHeads * c.LinearKeyHeadDim + 3L * c.LinearNumValueHeads * c.LinearValueHeadDim + 2L * c.LinearNumValueHeads;
        long experts = 3L * (c.NumExpertsPerTok + c.SharedExpertSlots) * Math.Max(c.MoeIntermediateSize, 1) + 3L * Math.Max(c.IntermediateSize, c.SharedExpertIntermediateSize);
        long perToken = 8 * h + Math.Max(attention, linear) + experts + c.NumExperts + c.SharedExpertSlots;
        long logits = (long)Math.Max(o.MaxNumSeqs, 1) * c.VocabSize;
        return (t * perToken + logits) * sizeof(float) * 2 + (256L << 20);
    }

    public override string ToString() =>
        $"{Gb(BudgetBytes)} GB budget ({Utilization:P0} of {Gb(DeviceBytes)} GB): weights {Gb(WeightBytes)} GB, states {Gb(StateBytes)} GB, " +
        $"workspace {Gb(WorkspaceBytes)} GB, KV cache {Gb(KvBytes)} GB in {NumBlocks} blocks";

    private static string Gb(long bytes) => (bytes / 1e9).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
}
