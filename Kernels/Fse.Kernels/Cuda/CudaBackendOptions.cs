namespace Fse.Kernels.Cuda;

/// <summary>
/// How <see cref="CudaBackend.MatMul"/> picks its path by token count: cuBLAS from <see cref="CublasMinTokens"/> when it
/// is loaded, else the GEMV kernel up to <see cref="GemvMaxTokens"/>, else the tiled kernel. The defaults come from the
/// H100 measurements in BENCHMARKS.md ("CUDA kernels").
/// </summary>
public sealed record CudaBackendOptions
{
    /// <summary>Up to this many tokens (and below <see cref="CublasMinTokens"/>, or without cuBLAS) MatMul runs the GEMV kernel: one warp per output row, 128-bit weight loads.</summary>
    public int GemvMaxTokens { get; init; } = 64;

    /// <summary>From this many tokens on MatMul calls cuBLAS when it is loaded.</summary>
    public int CublasMinTokens { get; init; } = 4;

    /// <summary>Whether MatMul may use cuBLAS at all.</summary>
    public bool UseCublas { get; init; } = true;

    /// <summary>
    /// Number of bf16 terms the F32 activations are split into for cuBLAS GEMMs on BF16 weights (each term one GEMM with
    /// F32 accumulation; the terms are stacked into one GEMM, so the weight is read once): 1 is plain bf16 activations (what
    /// serving engines do, ~1e-3 relative error), 3 reproduces F32 activations to ~24 bits.
    /// </summary>
    public int Bf16SplitTerms { get; init; } = 3;

    /// <summary>
    /// Up to this many tokens the grouped expert pass skips the alignment: two launches, gate/up per (token, slot) and
    /// down with the weighted combine per token (each expert's weights read once per token that picked it).
    /// </summary>
    public int MoeDirectMaxTokens { get; init; } = 4;

    /// <summary>
    /// Whether the down pass of a one-token expert pass (a batch-1 decode step) loads every slot's row at once
    /// (<see cref="Device.MoeSingleTokenKernel"/>) where its shape allows, instead of four slots per round.
    /// </summary>
    public bool MoeSingleTokenDown { get; init; } = true;

    /// <summary>
    /// Whether that one-token down pass cuts its work by slot (<see cref="Device.MoeSingleTokenKernel.DownBySlot{TW}"/>:
    /// a group per four columns, a warp per slot reading its act row once) instead of a warp per column reading every
    /// slot's act row.
    /// </summary>
    public bool MoeDownBySlot { get; init; } = true;

    /// <summary>
    /// Whether decode steps of one token per sequence with at least a (sequence, value head) per two multiprocessors run the
    /// delta rule and the gated norm as one kernel, a group per (sequence, value head).
    /// </summary>
    public bool DeltaRuleHeadNorm { get; init; } = true;

    /// <summary>
    /// Tokens per chunk of the chunked (WY) delta rule (<see cref="Device.DeltaRuleChunkKernel"/>), which runs where
    /// <see cref="GatedDeltaNetArgs.Form"/> is <see cref="DeltaRuleForm.Chunked"/> and the group's shared memory allows it;
    /// 0 runs the recurrent kernels for every form.
    /// </summary>
    public int DeltaRuleChunkTokens { get; init; } = 16;

    /// <summary>Whether the attention partition merge runs in groups of 512 threads when there are fewer (token, head) jobs than multiprocessors.</summary>
    public bool AttentionWideCombine { get; init; } = true;

    /// <summary>
    /// Whether <see cref="CudaBackend.ArgMax"/> cuts a row wider than one group's round of loads into parts (one group
    /// each, then a launch that picks among them) instead of one group walking the whole row.
    /// </summary>
    public bool ArgMaxInParts { get; init; } = true;

    /// <summary>
    /// From this many tokens on, BF16 grouped experts run as batched cuBLAS GEMMs over tiles of pairs of one expert
    /// (when cuBLAS is loaded; <see cref="MoeGemmTileRows"/>); below it, the GEMV-style expert kernels that read each expert once per 4 pairs.
    /// </summary>
    public int MoeCublasMinTokens { get; init; } = 128;

    /// <summary>Pairs per tile of the batched-GEMM expert path (each tile is one GEMM of that many rows per bf16 term).</summary>
    public int MoeGemmTileRows { get; init; } = 16;

    /// <summary>
    /// bf16 terms of the activations in the batched-GEMM expert path, as <see cref="Bf16SplitTerms"/> for MatMul: two
    /// terms keep about 16 significant bits (relative error ~6e-6 on the H100 benchmark), and cost 0.86x of three there.
    /// </summary>
    public int MoeGemmSplitTerms { get; init; } = 2;

    /// <summary>
    /// A sequence whose whole context is in the step (a fresh prompt) with at least this many tokens gets dense prefill
    /// attention from cuBLAS: scores for each query-head group in one strided-batched F32 GEMM, a causal softmax, and
    /// one GEMM with the values, in blocks of query rows. Others (decode tokens, later prompt chunks) use the paged kernel.
    /// </summary>
    public int DenseAttentionMinTokens { get; init; } = 64;

    /// <summary>
    /// Keys per partition of the attention kernel (flash-decoding): a (token, head) whose context is longer is split over
    /// several groups and merged by a second kernel, so a decode step with few tokens still fills the device.
    /// </summary>
    public int AttentionPartitionKeys { get; init; } = 32;

    /// <summary>
    /// Record decode steps as CUDA graphs and replay them (<see cref="IStepGraphs"/>): a step's few hundred launches
    /// cost their host time once per step shape instead of every step.
    /// </summary>
    public bool StepGraphs { get; init; } = true;

    /// <summary>
    /// Whether paged attention with 2–8 query heads per KV head (and 16-byte aligned rows) runs a group per KV head
    /// (<see cref="Device.GroupedQueryAttention"/>: each cached key and value read once for all its query heads) instead
    /// of a group per query head, when that makes at least two groups per multiprocessor.
    /// </summary>
    public bool AttentionByKvHead { get; init; } = true;

    /// <summary>Groups per multiprocessor from which <see cref="AttentionByKvHead"/> applies (a group per KV head and partition).</summary>
    public double AttentionByKvHeadMinGroupsPerMultiprocessor { get; init; } = 2;

    /// <summary>Largest decode batch (tokens) recorded as a step graph.</summary>
    public int StepGraphMaxTokens { get; init; } = 64;

    /// <summary>
    /// Whether a recorded step's kernel-to-kernel edges are made programmatic (sm_90 and a CUDA 12.3 driver; see
    /// <see cref="ProgrammaticLaunch"/>): each kernel is launched while its predecessor still runs and waits on the device
    /// for it, so the launch gap between them, and the reads a kernel places before its wait, overlap the predecessor's tail.
    /// </summary>
    public bool ProgrammaticLaunch { get; init; } = true;

    /// <summary>Whether steps whose MatMuls go through cuBLAS (from <see cref="CublasMinTokens"/> tokens) are recorded too.</summary>
    public bool StepGraphsWithCublas { get; init; } = true;
}
