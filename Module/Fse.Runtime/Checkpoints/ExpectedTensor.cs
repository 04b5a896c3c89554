namespace Fse.Runtime.Checkpoints;

/// <summary>How routed-expert weights are stored.</summary>
public enum ExpertLayout
{
    /// <summary>
    /// One tensor per expert and projection: <c>mlp.experts.{e}.{gate_proj,up_proj,down_proj}.weight</c>. Every hub
    /// checkpoint of qwen2_moe, qwen3_next and glm4_moe, and what transformers 5.x <c>save_pretrained</c> writes by default
    /// (<c>save_original_format=True</c> reverts its in-memory packing on save).
    /// </summary>
    PerExpert,

    /// <summary>
    /// transformers 5.x's in-memory form, written by <c>save_pretrained(..., save_original_format=False)</c>:
    /// <c>mlp.experts.gate_up_proj</c> [E, 2I, H] (gate rows then up rows per expert) and <c>mlp.experts.down_proj</c> [E, H, I].
    /// </summary>
    Packed,
}

/// <summary>What a tensor is for; it decides the scale random weights are drawn with.</summary>
public enum TensorRole
{
    Embedding,
    LmHead,

    /// <summary>RMSNorm weight applied as <c>·w</c> (near 1).</summary>
    Norm,

    /// <summary>Qwen3-Next's zero-centred RMSNorm weight applied as <c>·(1+w)</c> (near 0).</summary>
    ZeroCenteredNorm,

    /// <summary>A projection reading the residual stream or an activation: <c>[out, in]</c>, fan-in is the last dimension.</summary>
    Projection,

    /// <summary>A projection writing back into the residual stream (o_proj, out_proj, down_proj).</summary>
    OutputProjection,
    Bias,

    /// <summary>The router <c>mlp.gate.weight</c> [E, H].</summary>
    Router,

    /// <summary>GLM's <c>mlp.gate.e_score_correction_bias</c> [E] (a float32 buffer).</summary>
    RouterBias,

    /// <summary>Qwen's <c>mlp.shared_expert_gate.weight</c> [1, H].</summary>
    SharedExpertGate,

    /// <summary>Gated DeltaNet's depthwise <c>conv1d.weight</c> [channels, 1, kernel].</summary>
    Conv,

    /// <summary>Gated DeltaNet's <c>dt_bias</c> [value heads].</summary>
    DtBias,

    /// <summary>Gated DeltaNet's <c>A_log</c> [value heads].</summary>
    ALog,
}

/// <summary>One tensor a checkpoint of a given config must hold.</summary>
/// <param name="Name">The HF tensor name.</param>
/// <param name="Shape">Its shape.</param>
/// <param name="Role">What it is for.</param>
/// <param name="Layer">Its decoder layer, or -1 outside the layers.</param>
/// <param name="Expert">The routed expert it belongs to (per-expert layout), else null.</param>
/// <param name="DType">A dtype the tensor always has whatever the checkpoint's (float32 for GLM's correction bias), else null.</param>
public sealed record ExpectedTensor(string Name, TensorShape Shape, TensorRole Role, int Layer = -1, int? Expert = null, SafetensorsDType? DType = null)
{
    public long ElementCount => Shape.ElementCount;
}
