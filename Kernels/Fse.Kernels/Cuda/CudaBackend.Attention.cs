using Fse.Kernels.Cuda.Device;
using ILGPU;
using ILGPU.Runtime;

namespace Fse.Kernels.Cuda;

public sealed partial class CudaBackend
{
    public void Rope(Tensor x, SequenceBatch batch, int rotaryDim, float theta)
    {
        var xs = T(x).F32;
        if (x.Rank != 3 || x.Dim(0) != batch.TokenCount || rotaryDim > x.Dim(2) || rotaryDim % 2 != 0)
            throw new ArgumentException($"Rope expects [tokens={batch.TokenCount}, heads, headDim ≥ {rotaryDim}], got {x}.");
        int heads = x.Dim(1), hd = x.Dim(2), half = rotaryDim / 2;
        if (half == 0 || batch.TokenCount == 0) return;
        var (cos, sin) = Batch(batch).Rope(rotaryDim, theta);
        _k.Rope(Linear((long)batch.TokenCount * heads * half), xs, cos, sin, batch.TokenCount, heads, hd, half);
    }

    /// <summary>Both norms (when given) and both rotations in one launch: one group per (token, head) of q and k.</summary>
    public void NormRopeQueryKey(Tensor q, Tensor k, Tensor? queryNorm, Tensor? keyNorm, float eps, bool unitOffset, SequenceBatch batch, int rotaryDim, float theta)
    {
        int tokens = batch.TokenCount;
        if (q.Rank != 3 || k.Rank != 3 || q.Dim(0) != tokens || k.Dim(0) != tokens || q.Dim(2) != k.Dim(2) || rotaryDim > q.Dim(2) || rotaryDim % 2 != 0)
            throw new ArgumentException($"NormRopeQueryKey expects q [tokens={tokens}, heads, headDim ≥ {rotaryDim}] and k [tokens, kvHeads, headDim], got {q} and {k}.");
        int hd = q.Dim(2), half = rotaryDim / 2;
        if (queryNorm is not null && queryNorm.ElementCount != hd) throw Shapes("NormRopeQueryKey query norm", q, queryNorm);
        if (keyNorm is not null && keyNorm.ElementCount != hd) throw Shapes("NormRopeQueryKey key norm", k, keyNorm);
        if (tokens == 0) return;
        var qs = T(q).F32;
        var (cos, sin) = half > 0 ? Batch(batch).Rope(rotaryDim, theta) : (qs, qs);
        var args = new QueryKeyRopeArgs
        {
            Query = qs, Key = T(k).F32, QueryNorm = queryNorm is null ? qs : T(queryNorm).F32, KeyNorm = keyNorm is null ? qs : T(keyNorm).F32,
            Cos = cos, Sin = sin, Tokens = tokens, QueryHeads = q.Dim(1), KeyHeads = k.Dim(1), HeadDim = hd, Half = half,
            HasQueryNorm = queryNorm is null ? 0 : 1, HasKeyNorm = keyNorm is null ? 0 : 1, UnitOffset = unitOffset ? 1 : 0, Eps = eps,
        };
        _k.NormRopeHeads(Rows((long)tokens * (q.Dim(1) + k.Dim(1)), hd + Warps(_group)), args);
    }

    /// <summary>Most partitions per (token, head): the merge keeps a factor per partition in shared memory.</summary>
    private const int MaxPartitions = 4096;

    /// <summary>Largest partial-output workspace of the partitioned attention kernel (floats).</summary>
    private const long PartFloats = 1 << 25;

    /// <summary>
    /// KV write, then one group per (token, head, context partition) with an online softmax, and a merge of the partitions
    /// when there are several (flash-decoding). A later prompt chunk runs the same kernels: each query token reads its own
    /// causal prefix, the step's keys written just before on the same stream. A fresh prompt of at least
    /// <see cref="CudaBackendOptions.DenseAttentionMinTokens"/> tokens goes through <see cref="DenseAttention"/> instead.
    /// </summary>
    public void PagedAttention(Tensor q, Tensor k, Tensor v, Tensor keyCache, Tensor valueCache, SequenceBatch batch, float scale, Tensor output)
    {
        int tokens = batch.TokenCount;
        if (q.Rank != 3 || k.Rank != 3 || q.Dim(0) != tokens || k.Dim(0) != tokens || v.ElementCount != k.ElementCount || output.ElementCount != q.ElementCount)
            throw Shapes("PagedAttention", q, k, v, output);
        int heads = q.Dim(1), hd = q.Dim(2), kvHeads = k.Dim(1);
        if (heads % kvHeads != 0 || k.Dim(2) != hd || keyCache.Rank != 3 || keyCache.Dim(1) != kvHeads || keyCache.Dim(2) != hd
            || valueCache.ElementCount != keyCache.ElementCount)
            throw Shapes("PagedAttention", q, k, keyCache);
        if (tokens == 0) return;
        var args = new AttentionArgs
        {
            Q = T(q).F32, K = T(k).F32, V = T(v).F32, KeyCache = T(keyCache).F32, ValueCache = T(valueCache).F32, Out = T(output).F32,
            Batch = Batch(batch).View, Heads = heads, KvHeads = kvHeads, HeadDim = hd, CacheSlots = keyCache.Dim(0), Scale = scale,
            Status = _status.View,
        };
        // Partitions: enough to cover the longest context, capped so the partial outputs stay within PartFloats.
        int keys = Math.Max(1, Options.AttentionPartitionKeys);
        // A recorded step replays at later positions: cover the block table's capacity (empty partitions exit at once).
        int longest = _recording ? batch.MaxBlocksPerSeq * batch.BlockSize : batch.Positions.Max() + 1;
        long jobs = (long)tokens * heads;
        int parts = (int)Math.Clamp(Math.Min((longest + keys - 1) / keys, PartFloats / (jobs * hd)), 1, MaxPartitions);
        keys = (longest + parts - 1) / parts;
        args.Partitions = parts;
        args.PartitionKeys = keys;
        if (parts > 1)
        {
            var ws = _ws.Get<float>(Scratch.AttentionParts, jobs * parts * (hd + 2));
            args.PartOut = ws.SubView(0, jobs * parts * hd);
            args.PartMax = ws.SubView(jobs * parts * hd, jobs * parts);
            args.PartSum = ws.SubView(jobs * parts * (hd + 1), jobs * parts);
        }
        var (kc, vc, o) = (T(keyCache), T(valueCache), T(output));
        if (hd % 4 == 0 && kc.Aligned16 && vc.Aligned16 && o.Aligned16)
        {
            args.Vector = 1;
            args.Key4 = kc.Vec;
            args.Value4 = vc.Vec;
            args.Out4 = o.Vec;
            if (parts > 1) args.PartOut4 = args.PartOut.Cast<U4>();
        }
        _k.WriteKv(Linear((long)tokens * kvHeads * hd), args);
        var dense = _cublas is { CanStride: true } && Options.UseCublas
            ? Batch(batch).DenseSequences(Options.DenseAttentionMinTokens) : ([], null);
        if (dense.Flags is { } flags)
        {
            args.Dense = flags;
            args.HasDense = 1;
        }
        if (dense.Spans.Count < batch.SequenceCount)
        {
            int warps = Warps(_group), chunkFloats = (hd + 3) / 4 * 4, perKvHead = heads / kvHeads;
            int groupedFloats = GroupedQueryAttention.SharedFloats(hd, keys, _group);
            // A group per KV head only with at least two such groups per multiprocessor (by default): at batch 1 (66 groups
            // on the H100's 132) it was slower than a group per query head (TPOT 1.335 -> 1.372 ms; with 192 groups, one per
            // multiprocessor and more, 1.22 -> 1.27 ms on the device), from batch 4 on faster (batch 64: 17.14 -> 16.48 ms).
            long grouped = (long)tokens * kvHeads * parts;
            if (Options.AttentionByKvHead && args.Vector != 0 && perKvHead > 1 && perKvHead <= GroupedQueryAttention.MaxHeads
                && grouped >= Options.AttentionByKvHeadMinGroupsPerMultiprocessor * _acc.NumMultiprocessors && (long)groupedFloats * sizeof(float) <= _acc.MaxSharedMemoryPerGroup)
                _k.AttendByKvHead(Rows(grouped, groupedFloats), args);
            else
                _k.Attend(Rows(checked(jobs * parts), chunkFloats + 3 * keys + 4 * _group), args);
            if (parts > 1)
            {
                // Fewer (token, head) jobs than multiprocessors (a decode step of a few sequences): wider groups, so each
                // thread sums fewer partitions (fewer waits on memory in a row).
                int combine = Options.AttentionWideCombine && jobs < _acc.NumMultiprocessors ? Math.Max(_group, Math.Min(_acc.MaxNumThreadsPerGroup, WideCombineGroup)) : _group;
                _k.AttendCombine(new KernelConfig(checked((int)jobs), combine, SharedMemoryConfig.RequestDynamic<float>(parts + combine / _acc.WarpSize + 4 * combine)), args);
            }
        }
        foreach (var (first, count) in dense.Spans) DenseAttention(args, first, count);
    }

    /// <summary>Threads per group of the partition merge when there are fewer jobs than multiprocessors.</summary>
    private const int WideCombineGroup = 512;

    /// <summary>Scores of at most this many floats per block of query rows of the dense path.</summary>
    private const long DenseScoreFloats = 1L << 26;

    /// <summary>
    /// Causal attention of a sequence whose tokens first … first+count−1 are positions 0 … count−1, from the step's own
    /// q, k and v (F32 cuBLAS GEMMs): per block of query rows and per key head, scores for its query heads in one
    /// strided-batched GEMM, the causal softmax, and the values in another.
    /// </summary>
    private void DenseAttention(AttentionArgs a, int first, int count)
    {
        var cublas = _cublas!;
        int heads = a.Heads, kvHeads = a.KvHeads, hd = a.HeadDim, group = heads / kvHeads;
        int block = (int)Math.Clamp(DenseScoreFloats / ((long)heads * count), 1, count);
        var scores = _ws.Get<float>(Scratch.AttentionScores, (long)heads * block * count);
        nint q = Pointer(a.Q), k = Pointer(a.K), v = Pointer(a.V), o = Pointer(a.Out), sc = Pointer(scores);
        for (int r0 = 0; r0 < count; r0 += block)
        {
            int rows = Math.Min(block, count - r0), keys = r0 + rows;
            long perHead = (long)rows * keys;
            for (int g = 0; g < kvHeads; g++)
            {
                long qRow = ((long)(first + r0) * heads + g * group) * hd, kRow = ((long)first * kvHeads + g) * hd;
                cublas.AttentionScores(rows, keys, hd, k + (nint)(kRow * 4), kvHeads * hd, q + (nint)(qRow * 4), heads * hd,
                    sc + (nint)(g * group * perHead * 4), a.Scale, group);
            }
            _k.CausalSoftmax(Rows((long)heads * rows, Warps(_group)), scores.SubView(0, heads * perHead), rows, keys, r0);
            for (int g = 0; g < kvHeads; g++)
            {
                long oRow = ((long)(first + r0) * heads + g * group) * hd, vRow = ((long)first * kvHeads + g) * hd;
                cublas.AttentionValues(rows, keys, hd, v + (nint)(vRow * 4), kvHeads * hd, sc + (nint)(g * group * perHead * 4),
                    o + (nint)(oRow * 4), heads * hd, group);
            }
        }
    }
}
