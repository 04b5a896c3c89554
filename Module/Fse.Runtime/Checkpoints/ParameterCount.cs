namespace Fse.Runtime.Checkpoints;

/// <summary>Parameter counts implied by a config, as the hub checkpoint stores them (per-expert tensors, no FSE slots).</summary>
public static class ParameterCount
{
    /// <summary>Every stored parameter.</summary>
    public static long Total(ModelConfig c) => Count(c, activeOnly: false);

    /// <summary>Parameters a single token touches: top-k routed experts plus everything else.</summary>
    public static long Active(ModelConfig c) => Count(c, activeOnly: true);

    private static long Count(ModelConfig c, bool activeOnly)
    {
        long h = c.HiddenSize;
        long n = (long)c.VocabSize * h + h;              // embeddings + final norm
        if (!c.TieWordEmbeddings) n += (long)c.VocabSize * h;
        for (int i = 0; i < c.NumLayers; i++)
        {
            n += 2 * h;                                   // input and post-attention norms
            n += c.LayerTypes[i] == AttentionKind.Linear ? LinearAttention(c) : FullAttention(c);
            n += c.FeedForwardOf(i) == FeedForwardKind.Moe ? Moe(c, activeOnly) : 3 * h * c.IntermediateSize;
        }
        return n;
    }

    private static long FullAttention(ModelConfig c)
    {
        long h = c.HiddenSize, q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim;
        long n = h * q * (c.AttentionOutputGate ? 2 : 1) + 2 * h * kv + q * h;
        if (c.QkvBias) n += q + 2 * kv;
        if (c.QkNorm) n += 2L * c.HeadDim;
        return n;
    }

    private static long LinearAttention(ModelConfig c)
    {
        long h = c.HiddenSize;
        long keyDim = (long)c.LinearNumKeyHeads * c.LinearKeyHeadDim;
        long valueDim = (long)c.LinearNumValueHeads * c.LinearValueHeadDim;
        long nv = c.LinearNumValueHeads;
        long qkvz = h * (2 * keyDim + 2 * valueDim);
        long ba = h * 2 * nv;
        long conv = (2 * keyDim + valueDim) * c.LinearConvKernelDim;
        return qkvz + ba + conv + 2 * nv /* dt_bias, A_log */ + c.LinearValueHeadDim /* norm */ + valueDim * h;
    }

    private static long Moe(ModelConfig c, bool activeOnly)
    {
        long h = c.HiddenSize;
        long expert = 3 * h * c.MoeIntermediateSize;
        long n = (long)c.NumExperts * h;                  // router
        n += expert * (activeOnly ? c.NumExpertsPerTok : c.NumExperts);
        n += 3 * h * c.SharedExpertIntermediateSize;
        if (c.SharedExpertGate) n += h;
        if (c.Scoring == RouterScoring.SigmoidGrouped) n += c.NumExperts;   // e_score_correction_bias
        return n;
    }
}
