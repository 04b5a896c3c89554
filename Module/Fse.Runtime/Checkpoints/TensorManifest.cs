namespace Fse.Runtime.Checkpoints;

/// <summary>
/// The exact tensors (HF names and shapes) a hub checkpoint of a config holds, following the HF transformers modelling code
/// for qwen2_moe, qwen3_next and glm4_moe. Hub checkpoints may carry more (Qwen3-Next's <c>mtp.*</c>, GLM's next-n layer
/// <c>model.layers.{num_hidden_layers}.*</c>); those are not part of the model and are not listed.
/// </summary>
public static class TensorManifest
{
    public static IReadOnlyList<ExpectedTensor> Expected(ModelConfig c, ExpertLayout layout = ExpertLayout.PerExpert)
    {
        var list = new List<ExpectedTensor>();
        long h = c.HiddenSize;
        var norm = c.ZeroCenteredNorm ? TensorRole.ZeroCenteredNorm : TensorRole.Norm;
        list.Add(new("model.embed_tokens.weight", new TensorShape(c.VocabSize, h), TensorRole.Embedding));
        for (int i = 0; i < c.NumLayers; i++)
        {
            var p = $"model.layers.{i}.";
            list.Add(new(p + "input_layernorm.weight", new TensorShape(h), norm, i));
            if (c.LayerTypes[i] == AttentionKind.Linear) AddLinearAttention(list, c, p + "linear_attn.", i);
            else AddFullAttention(list, c, p + "self_attn.", i, norm);
            list.Add(new(p + "post_attention_layernorm.weight", new TensorShape(h), norm, i));
            if (c.FeedForwardOf(i) == FeedForwardKind.Moe) AddMoe(list, c, p + "mlp.", i, layout);
            else AddMlp(list, h, c.IntermediateSize, p + "mlp.", i);
        }
        list.Add(new("model.norm.weight", new TensorShape(h), norm));
        if (!c.TieWordEmbeddings) list.Add(new("lm_head.weight", new TensorShape(c.VocabSize, h), TensorRole.LmHead));
        return list;
    }

    private static void AddFullAttention(List<ExpectedTensor> list, ModelConfig c, string p, int layer, TensorRole norm)
    {
        long h = c.HiddenSize;
        long q = (long)c.NumHeads * c.HeadDim;
        long kv = (long)c.NumKvHeads * c.HeadDim;
        long qOut = c.AttentionOutputGate ? 2 * q : q;   // qwen3_next: query and output gate, interleaved per head
        list.Add(new(p + "q_proj.weight", new TensorShape(qOut, h), TensorRole.Projection, layer));
        if (c.QkvBias) list.Add(new(p + "q_proj.bias", new TensorShape(qOut), TensorRole.Bias, layer));
        list.Add(new(p + "k_proj.weight", new TensorShape(kv, h), TensorRole.Projection, layer));
        if (c.QkvBias) list.Add(new(p + "k_proj.bias", new TensorShape(kv), TensorRole.Bias, layer));
        list.Add(new(p + "v_proj.weight", new TensorShape(kv, h), TensorRole.Projection, layer));
        if (c.QkvBias) list.Add(new(p + "v_proj.bias", new TensorShape(kv), TensorRole.Bias, layer));
        list.Add(new(p + "o_proj.weight", new TensorShape(h, q), TensorRole.OutputProjection, layer));
        // qwen3_next's attention_bias covers o_proj too; qwen2_moe and glm4_moe never bias o_proj.
        if (c.QkvBias && c.Architecture == ModelArchitecture.Qwen3Next)
            list.Add(new(p + "o_proj.bias", new TensorShape(h), TensorRole.Bias, layer));
        if (c.QkNorm)
        {
            list.Add(new(p + "q_norm.weight", new TensorShape(c.HeadDim), norm, layer));
            list.Add(new(p + "k_norm.weight", new TensorShape(c.HeadDim), norm, layer));
        }
    }

    private static void AddLinearAttention(List<ExpectedTensor> list, ModelConfig c, string p, int layer)
    {
        long h = c.HiddenSize;
        long keyDim = (long)c.LinearNumKeyHeads * c.LinearKeyHeadDim;
        long valueDim = (long)c.LinearNumValueHeads * c.LinearValueHeadDim;
        long nv = c.LinearNumValueHeads;
        list.Add(new(p + "in_proj_qkvz.weight", new TensorShape(2 * keyDim + 2 * valueDim, h), TensorRole.Projection, layer));
        list.Add(new(p + "in_proj_ba.weight", new TensorShape(2 * nv, h), TensorRole.Projection, layer));
        list.Add(new(p + "conv1d.weight", new TensorShape(2 * keyDim + valueDim, 1, c.LinearConvKernelDim), TensorRole.Conv, layer));
        list.Add(new(p + "dt_bias", new TensorShape(nv), TensorRole.DtBias, layer));
        list.Add(new(p + "A_log", new TensorShape(nv), TensorRole.ALog, layer));
        // The gated RMSNorm of Gated DeltaNet multiplies by w (initialised to ones), unlike the model's zero-centred norms.
        list.Add(new(p + "norm.weight", new TensorShape(c.LinearValueHeadDim), TensorRole.Norm, layer));
        list.Add(new(p + "out_proj.weight", new TensorShape(h, valueDim), TensorRole.OutputProjection, layer));
    }

    private static void AddMlp(List<ExpectedTensor> list, long h, long width, string p, int layer, int? expert = null)
    {
        list.Add(new(p + "gate_proj.weight", new TensorShape(width, h), TensorRole.Projection, layer, expert));
        list.Add(new(p + "up_proj.weight", new TensorShape(width, h), TensorRole.Projection, layer, expert));
        list.Add(new(p + "down_proj.weight", new TensorShape(h, width), TensorRole.OutputProjection, layer, expert));
    }

    private static void AddMoe(List<ExpectedTensor> list, ModelConfig c, string p, int layer, ExpertLayout layout)
    {
        long h = c.HiddenSize;
        long e = c.NumExperts;
        long width = c.MoeIntermediateSize;
        list.Add(new(p + "gate.weight", new TensorShape(e, h), TensorRole.Router, layer));
        if (c.Scoring == RouterScoring.SigmoidGrouped)
            list.Add(new(p + "gate.e_score_correction_bias", new TensorShape(e), TensorRole.RouterBias, layer, DType: SafetensorsDType.F32));
        if (layout == ExpertLayout.Packed)
        {
            list.Add(new(p + "experts.gate_up_proj", new TensorShape(e, 2 * width, h), TensorRole.Projection, layer));
            list.Add(new(p + "experts.down_proj", new TensorShape(e, h, width), TensorRole.OutputProjection, layer));
        }
        else
        {
            for (int x = 0; x < c.NumExperts; x++) AddMlp(list, h, width, $"{p}experts.{x}.", layer, x);
        }
        if (c.SharedExpertIntermediateSize > 0)
        {
            // qwen: one gated shared expert; glm: n_shared_experts fused into one ungated MLP of their total width.
            string shared = c.Architecture == ModelArchitecture.Glm4Moe ? "shared_experts." : "shared_expert.";
            AddMlp(list, h, c.SharedExpertIntermediateSize, p + shared, layer);
            if (c.SharedExpertGate)
                list.Add(new(p + "shared_expert_gate.weight", new TensorShape(1, h), TensorRole.SharedExpertGate, layer));
        }
    }

    /// <summary>The first layer whose MLP is MoE, or -1.</summary>
    public static int FirstMoeLayer(ModelConfig c)
    {
        for (int i = 0; i < c.NumLayers; i++)
            if (c.FeedForwardOf(i) == FeedForwardKind.Moe) return i;
        return -1;
    }
}
