namespace Fse.Kernels;

/// <summary>
/// The op set every model graph is written in. Two implementations: <c>Cpu</c> (plain C#, the numerical
/// reference) and <c>Cuda</c> (ILGPU kernels and cuBLAS). Activations are F32; weights keep their dtype
/// (F32, F16, BF16) and are read with F32 accumulation. Shapes are row-major; a linear weight is [out, in].
/// Ops may be asynchronous on a device: <see cref="Download(Tensor, Span{float})"/> and
/// <see cref="Synchronize"/> wait for earlier ops.
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>"cpu" or "cuda".</summary>
    string Name { get; }

    /// <summary>The device's total memory in bytes, which a memory plan divides up; null when host memory is used (the CPU).</summary>
    long? MemoryBytes { get; }

    /// <summary>A zero-filled tensor.</summary>
    Tensor Allocate(DType dtype, params int[] shape);

    /// <summary>
    /// A tensor whose contents are unspecified (on a device: whatever a reused buffer held), for an op's output that the
    /// op overwrites entirely; it saves the zero fill.
    /// </summary>
    Tensor Empty(DType dtype, params int[] shape) => Allocate(dtype, shape);

    /// <summary>A device copy (or, on the CPU, possibly a zero-copy view) of host data in its own dtype.</summary>
    Tensor Upload(HostTensor source);

    /// <summary>
    /// A tensor holding <paramref name="source"/>'s values, drawn in the backend's own memory (on a device, by a kernel: the
    /// values never exist in host memory), bit for bit what <see cref="RandomMatrix.WriteTo"/> writes. Its shape is
    /// <paramref name="shape"/> (of the same element count and last dimension) or [rows, cols].
    /// </summary>
    Tensor Upload(RandomMatrix source, int[]? shape = null);

    /// <summary>A weight from host bytes or drawn in place, in its dtype and shape.</summary>
    Tensor Upload(WeightTensor source) => source.Random is { } r ? Upload(r, source.Shape) : Upload(source.Host);

    Tensor Upload(ReadOnlySpan<float> data, params int[] shape);

    Tensor Upload(ReadOnlySpan<int> data, params int[] shape);

    void Download(Tensor source, Span<float> destination);

    void Download(Tensor source, Span<int> destination);

    void Synchronize();

    /// <summary>Packs the slots of one MoE layer (routed experts, then shared-expert slots under FSE).</summary>
    ExpertSet CreateExpertSet(IReadOnlyList<ExpertSlot> slots);

    /// <summary>output[t] = table[ids[t]]. ids I32 [T], table [V, H], output F32 [T, H].</summary>
    void Embedding(Tensor ids, Tensor table, Tensor output);

    /// <summary>
    /// Greedy decoding's choice for each row of x F32 [rows, n]: the index of the row's largest value, the lowest among
    /// equals, skipping NaNs (a row whose first value is NaN, or whose values all are, gives 0: the host scan
    /// <c>x[i] &gt; x[best]</c> from best = 0 does the same), written to output F32 [rows] as a float (exact: n ≤ 2^24).
    /// </summary>
    void ArgMax(Tensor x, Tensor output);

    /// <summary>Row-wise RMSNorm over the last dimension: <c>x/rms(x)·w</c>, or <c>·(1+w)</c> when <paramref name="unitOffset"/>.</summary>
    void RmsNorm(Tensor x, Tensor weight, Tensor output, float eps, bool unitOffset);

    /// <summary>
    /// residual += delta, then output = RmsNorm(residual) as <see cref="RmsNorm"/> computes it: a decoder layer's residual
    /// update and the norm that follows it, in one op where a backend fuses them.
    /// </summary>
    void AddRmsNorm(Tensor residual, Tensor delta, Tensor weight, Tensor output, float eps, bool unitOffset)
    {
        Add(residual, delta, residual);
        RmsNorm(residual, weight, output, eps, unitOffset);
    }

    /// <summary>output = a + b (output may alias a or b).</summary>
    void Add(Tensor a, Tensor b, Tensor output);

    /// <summary>output [T, N] = x [T, K] · weight [N, K]ᵀ (+ bias [N]).</summary>
    void MatMul(Tensor x, Tensor weight, Tensor? bias, Tensor output);

    /// <summary>
    /// Several projections of the same input stacked in one weight: outputs[i] [T, n_i] = x · weight[o_i … o_i + n_i)ᵀ
    /// (+ the same rows of bias), where the row blocks follow each other (o_0 = 0, Σ n_i = N). A backend may read the
    /// stacked weight in one pass; this default runs one <see cref="MatMul"/> per block.
    /// </summary>
    void MatMulSplit(Tensor x, Tensor weight, Tensor? bias, IReadOnlyList<Tensor> outputs) =>
        MatMulSplitShapes.EachBlock(this, x, weight, bias, MatMulSplitShapes.Blocks(x, weight, bias, outputs));

    /// <summary>output = silu(gate) ⊙ up.</summary>
    void SiluMul(Tensor gate, Tensor up, Tensor output);

    /// <summary>output = x ⊙ sigmoid(gate) (output may alias x).</summary>
    void SigmoidMul(Tensor x, Tensor gate, Tensor output);

    /// <summary>output[t] += sigmoid(gateLogit[t, 0]) · x[t]: a scalar-gated residual add per token.</summary>
    void SigmoidScaleAdd(Tensor output, Tensor x, Tensor gateLogit);

    /// <summary>
    /// Rotary embedding in place on x [T, heads, headDim], rotate-half convention, on the first
    /// <paramref name="rotaryDim"/> dims of each head, at each token's position in <paramref name="batch"/>;
    /// angles as HF computes them (inverse frequencies and products in float32).
    /// </summary>
    void Rope(Tensor x, SequenceBatch batch, int rotaryDim, float theta);

    /// <summary>
    /// An attention layer's query and key heads made ready for the cache, in place: each head of q [T, heads, headDim]
    /// and of k [T, kvHeads, headDim] RMS-normalised over headDim by <paramref name="queryNorm"/> / <paramref name="keyNorm"/>
    /// when given (as <see cref="RmsNorm"/> computes it), then rotated as <see cref="Rope"/> does. One op where a backend
    /// fuses the four; this default runs them in turn.
    /// </summary>
    void NormRopeQueryKey(Tensor q, Tensor k, Tensor? queryNorm, Tensor? keyNorm, float eps, bool unitOffset, SequenceBatch batch, int rotaryDim, float theta)
    {
        if (queryNorm is not null) RmsNorm(q, queryNorm, q, eps, unitOffset);
        if (keyNorm is not null) RmsNorm(k, keyNorm, k, eps, unitOffset);
        Rope(q, batch, rotaryDim, theta);
        Rope(k, batch, rotaryDim, theta);
    }

    /// <summary>
    /// Writes k, v [T, kvHeads, headDim] into the paged caches [slots, kvHeads, headDim] at the batch's slot
    /// mapping, then causal attention of q [T, heads, headDim] over each sequence's cached keys up to its own
    /// position (grouped-query: head h reads kv head h / (heads / kvHeads)). output [T, heads, headDim].
    /// </summary>
    void PagedAttention(Tensor q, Tensor k, Tensor v, Tensor keyCache, Tensor valueCache, SequenceBatch batch, float scale, Tensor output);

    /// <summary>The Gated DeltaNet core of linear-attention layers; updates the conv and recurrent states of each sequence.</summary>
    void GatedDeltaNet(GatedDeltaNetArgs args, SequenceBatch batch);

    /// <summary>
    /// Qwen routing in one pass. logits [T, E+S]: softmax over the first E columns (F32), top-k (ties: the lower
    /// index), renormalised when asked; then S shared slots: <c>ids[t, k+s] = E+s</c>,
    /// <c>weights[t, k+s] = sigmoid(logits[t, E+s])</c>, never renormalised. ids I32 and weights F32 [T, k+S].
    /// </summary>
    void RouteSoftmax(Tensor logits, int experts, int topK, bool renormalize, int sharedSlots, Tensor ids, Tensor weights);

    /// <summary>
    /// DeepSeek/GLM routing in one pass. logits [T, E]: scores = sigmoid(logits); choice = scores + bias; groups of
    /// E/groups experts scored by the sum of their two best choices; the best <paramref name="topkGroups"/> groups
    /// kept (the others masked out, so only experts of kept groups are chosen); top-k of the masked choices; weights = unbiased scores, renormalised when asked
    /// (sum + 1e-20), times <paramref name="scale"/>; then S shared slots with weight 1.
    /// </summary>
    void RouteSigmoidGrouped(Tensor logits, Tensor bias, int topK, int groups, int topkGroups, bool renormalize, float scale, int sharedSlots, Tensor ids, Tensor weights);

    /// <summary>output [T, H] = Σ_j weights[t, j] · Expert_{ids[t, j]}(x[t]) over the grouped expert slots.</summary>
    void MoeExperts(Tensor x, Tensor ids, Tensor weights, ExpertSet experts, Tensor output);
}
