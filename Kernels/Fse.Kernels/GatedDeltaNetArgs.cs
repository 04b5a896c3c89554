namespace Fse.Kernels;

/// <summary>Which form of the gated delta rule a backend uses over a multi-token chunk.</summary>
public enum DeltaRuleForm
{
    /// <summary>
    /// The backend's choice: the CPU backend takes the chunked (WY) form for chunks of more than one token and the
    /// recurrent one for one token (what HF does); the CUDA backend takes its recurrent kernels, faster there.
    /// </summary>
    Auto,

    /// <summary>Token-by-token recurrence everywhere.</summary>
    Recurrent,

    /// <summary>The chunked form everywhere, single tokens included.</summary>
    Chunked,
}

/// <summary>
/// Everything a Gated DeltaNet core needs between its input projections and its output projection:
/// causal depthwise conv (kernel K) with SiLU over the concatenated q|k|v channels, per-head L2 norm of q and k,
/// the gated delta rule with <c>g = -exp(A_log)·softplus(a + dt_bias)</c> and <c>beta = sigmoid(b)</c>, and the
/// gated RMSNorm <c>norm(o)·w·silu(z)</c>. Key heads are shared by <c>ValueHeads / KeyHeads</c> value heads.
/// </summary>
public sealed record GatedDeltaNetArgs
{
    public required int KeyHeads { get; init; }
    public required int KeyDim { get; init; }
    public required int ValueHeads { get; init; }
    public required int ValueDim { get; init; }
    public required int ConvKernel { get; init; }
    public required float NormEps { get; init; }

    /// <summary>[T, 2·KeyHeads·KeyDim + ValueHeads·ValueDim]: q, k, v channels before the conv.</summary>
    public required Tensor MixedQkv { get; init; }

    /// <summary>[T, ValueHeads·ValueDim]: the output gate.</summary>
    public required Tensor Z { get; init; }

    /// <summary>[T, ValueHeads]: beta logits.</summary>
    public required Tensor B { get; init; }

    /// <summary>[T, ValueHeads]: decay inputs.</summary>
    public required Tensor A { get; init; }

    /// <summary>[channels, K] depthwise conv weights.</summary>
    public required Tensor ConvWeight { get; init; }
    public required Tensor ALog { get; init; }
    public required Tensor DtBias { get; init; }

    /// <summary>[ValueDim] gated RMSNorm weight (plain <c>·w</c>, not <c>·(1+w)</c>).</summary>
    public required Tensor NormWeight { get; init; }

    /// <summary>[slots, channels, K-1] F32: the last K-1 conv inputs of each sequence.</summary>
    public required Tensor ConvState { get; init; }

    /// <summary>
    /// [slots, ValueHeads, KeyDim, ValueDim] F32: each sequence's recurrent state, zeros before its first step. Only the
    /// backend that runs the op reads it, in a layout of its own within that allocation (the CUDA backend keeps each
    /// value column's KeyDim entries contiguous).
    /// </summary>
    public required Tensor RecurrentState { get; init; }

    /// <summary>[T, ValueHeads·ValueDim]</summary>
    public required Tensor Output { get; init; }

    public DeltaRuleForm Form { get; init; } = DeltaRuleForm.Auto;

    /// <summary>Chunk length of the chunked form (HF uses 64).</summary>
    public int ChunkSize { get; init; } = 64;

    public int Channels => 2 * KeyHeads * KeyDim + ValueHeads * ValueDim;

    /// <summary>Throws when the tensors do not fit these dimensions and the batch's token count.</summary>
    public void Validate(SequenceBatch batch)
    {
        int tokens = batch.TokenCount, channels = Channels, nk = KeyHeads, dk = KeyDim, nv = ValueHeads, dv = ValueDim;
        if (nv % nk != 0) throw new ArgumentException($"{nv} value heads cannot share {nk} key heads.");
        if (MixedQkv.ElementCount != (long)tokens * channels || Z.ElementCount != (long)tokens * nv * dv
            || B.ElementCount != (long)tokens * nv || A.ElementCount != (long)tokens * nv || Output.ElementCount != (long)tokens * nv * dv)
            throw Shapes("inputs", MixedQkv, Z, B, A, Output);
        if (ConvWeight.ElementCount != (long)channels * ConvKernel || ConvState.Rank != 3 || ConvState.Dim(1) != channels || ConvState.Dim(2) != ConvKernel - 1)
            throw Shapes("conv", ConvWeight, ConvState);
        if (RecurrentState.Rank != 4 || RecurrentState.Dim(1) != nv || RecurrentState.Dim(2) != dk || RecurrentState.Dim(3) != dv)
            throw Shapes("state", RecurrentState);
    }

    private static ArgumentException Shapes(string what, params Tensor[] ts) =>
        new($"GatedDeltaNet {what}: incompatible shapes {string.Join(", ", ts.Select(t => t.ToString()))}.");
}
