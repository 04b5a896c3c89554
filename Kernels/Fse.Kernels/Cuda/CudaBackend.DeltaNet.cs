using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

public sealed partial class CudaBackend
{
    /// <summary>
    /// Conv (decode: one thread per sequence × channel; prefill: one per token × channel, then the state update), the
    /// delta rule and the gated RMSNorm. <see cref="DeltaRuleForm.Chunked"/> runs the chunked (WY) form at every step
    /// where <see cref="CudaBackendOptions.DeltaRuleChunkTokens"/> fits the group's shared memory
    /// (<see cref="DeltaRuleChunkKernel"/>: a group per block of a head's value columns, every token of a chunk at once).
    /// Auto and Recurrent run the recurrent form, which was faster on the H100 for a 1000-token prefill (1.72 against 2.16 ms
    /// a layer; BENCHMARKS.md, eleventh pass): one warp per value column with the column's state in registers, applying the
    /// q/k L2 norms itself in decode steps, or for key dims above 4 × warp size each value head's state in shared memory
    /// while its group walks the tokens. Launches: two for a decode step of one token per sequence with at least a
    /// (sequence, value head) per two multiprocessors (the delta rule and the norm in one kernel, a group each), three for
    /// other decode steps, four (a q/k L2 norm launch first) for a prefill, the chunked form or a wide key dim, five with
    /// the prefill's conv state update. The forms differ only in rounding (the contract compares each with float64).
    /// </summary>
    public void GatedDeltaNet(GatedDeltaNetArgs a, SequenceBatch batch)
    {
        int tokens = batch.TokenCount, channels = a.Channels, kernel = a.ConvKernel;
        int nk = a.KeyHeads, dk = a.KeyDim, nv = a.ValueHeads, dv = a.ValueDim;
        a.Validate(batch);
        if (tokens == 0) return;
        bool inRegisters = dk <= DeltaNetKernels.RowsPerLane * _acc.WarpSize;
        int columns = inRegisters ? 0 : DeltaColumns(dk, dv);
        var args = new DeltaNetArgs
        {
            Mixed = T(a.MixedQkv).F32, ConvWeight = T(a.ConvWeight).F32, ConvState = T(a.ConvState).F32,
            Conv = _ws.Get<float>(Scratch.ConvOut, (long)tokens * channels), Z = T(a.Z).F32, B = T(a.B).F32, A = T(a.A).F32,
            ALog = T(a.ALog).F32, DtBias = T(a.DtBias).F32, NormWeight = T(a.NormWeight).F32, RecurrentState = T(a.RecurrentState).F32,
            Output = T(a.Output).F32, Batch = Batch(batch).View, KeyHeads = nk, KeyDim = dk, ValueHeads = nv, ValueDim = dv,
            Kernel = kernel, Channels = channels, StateSlots = Math.Min(a.ConvState.Dim(0), a.RecurrentState.Dim(0)), Columns = columns,
            Status = _status.View, NormEps = a.NormEps,
        };
        bool decode = tokens <= 2 * batch.SequenceCount;
        int chunk = Options.DeltaRuleChunkTokens;
        long chunkFloats = DeltaRuleChunkKernel.SharedFloats(chunk, dk, _acc.WarpSize);
        bool chunked = a.Form == DeltaRuleForm.Chunked && chunk > 0 && chunkFloats * sizeof(float) <= _acc.MaxSharedMemoryPerGroup;
        args.ChunkTokens = chunk;
        args.NormalizeQueryKey = inRegisters && decode && !chunked ? 1 : 0;
        bool headNorm = !chunked && inRegisters && tokens == batch.SequenceCount && Options.DeltaRuleHeadNorm && 2L * batch.SequenceCount * nv >= _acc.NumMultiprocessors;
        if (decode) _k.CausalConv(Linear((long)batch.SequenceCount * channels), args);
        else
        {
            _k.CausalConvTokens(Linear((long)tokens * channels), args);
            _k.CausalConvState(Linear((long)batch.SequenceCount * channels), args);
        }
        if (headNorm)
        {
            // One token per sequence and at least a (sequence, value head) group per two multiprocessors: the delta rule
            // and the gated norm in one launch. With fewer groups it was slower than the warp-per-column kernel and the
            // norm apart (H100, whole batch-1 step: 1.231-1.237 -> 1.289 ms with 32 groups on 132 multiprocessors; batch 4,
            // 128 groups: 2.962 -> 2.916 ms; B=16 in a graph: 68.9 -> 57.0 µs).
            int group = Math.Min(_acc.MaxNumThreadsPerGroup, HeadNormWarps * _acc.WarpSize);
            _k.DeltaRuleHeadNorm(new KernelConfig(checked(batch.SequenceCount * nv), group, SharedMemoryConfig.RequestDynamic<float>(dv + group / _acc.WarpSize)), args);
            return;
        }
        int warps = Warps(_group);
        if (args.NormalizeQueryKey == 0) _k.QueryKeyL2(Rows((long)tokens * 2 * nk, warps), args.Conv, channels, nk, dk, 1f / MathF.Sqrt(dk));
        if (chunked)
        {
            int group = Math.Min(_acc.MaxNumThreadsPerGroup, ChunkWarps * _acc.WarpSize);
            int blocks = (dv + _acc.WarpSize - 1) / _acc.WarpSize;
            _k.DeltaRuleChunked(new KernelConfig(checked(batch.SequenceCount * nv * blocks), group,
                SharedMemoryConfig.RequestDynamic<float>(checked((int)chunkFloats))), args);
        }
        else if (inRegisters)
        {
            long columnsInAll = (long)batch.SequenceCount * nv * dv;
            _k.DeltaRuleWarp(new KernelConfig(checked((int)((columnsInAll + warps - 1) / warps)), _group), args);
        }
        else
        {
            int blocks = (dv + columns - 1) / columns;
            _k.DeltaRule(new KernelConfig(batch.SequenceCount * nv * blocks, columns, SharedMemoryConfig.RequestDynamic<float>(dk * columns + 2 * dk)), args);
        }
        _k.GatedRmsNorm(Rows((long)tokens * nv, warps), args.Output, T(a.Z).F32, args.NormWeight, dv, a.NormEps);
    }

    /// <summary>Warps of a <see cref="DeltaRuleChunkKernel.DeltaRuleChunked"/> group (its C×C products and the state's dk rows spread over them).</summary>
    private const int ChunkWarps = 8;

    /// <summary>Warps of a <see cref="DeltaNetKernels.DeltaRuleHeadNorm"/> group (a value head's columns over them, four at a time).</summary>
    private const int HeadNormWarps = 16;

    /// <summary>Value columns per delta-rule group: a multiple of the warp size, at most the group limit, with the [dk, columns] state in shared memory.</summary>
    private int DeltaColumns(int dk, int dv)
    {
        int warp = _acc.WarpSize;
        int cols = Math.Min(Math.Min(128, _acc.MaxNumThreadsPerGroup), (dv + warp - 1) / warp * warp);
        long limit = _acc.MaxSharedMemoryPerGroup;
        while (cols > warp && (long)(dk * cols + 2 * dk) * sizeof(float) > limit) cols -= warp;
        if ((long)(dk * cols + 2 * dk) * sizeof(float) > limit)
            throw new NotSupportedException($"A key dimension of {dk} needs more shared memory per group than the {limit} bytes available.");
        return cols;
    }
}
