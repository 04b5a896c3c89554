using ILGPU;
using ILGPU.Algorithms;

namespace Fse.Kernels.Cuda.Device;

/// <summary>A step's sequence tables on the device (see <see cref="SequenceBatch"/>).</summary>
public struct BatchView
{
    public ArrayView<int> SeqStart, Positions, BlockTable, SlotMapping, StateSlot, Reset, SeqOf;
    public int Sequences, Tokens, MaxBlocksPerSeq, BlockSize;
}

public struct AttentionArgs
{
    public ArrayView<float> Q, K, V, KeyCache, ValueCache, Out;
    public BatchView Batch;
    public int Heads, KvHeads, HeadDim, CacheSlots;
    public float Scale;
    public ArrayView<int> Status;

    /// <summary>Context partitions per (token, head) (flash-decoding); 1 writes <see cref="Out"/> directly.</summary>
    public int Partitions, PartitionKeys;

    /// <summary>Per (token, head, partition): running max, sum and the unnormalised output [hd], merged by <see cref="AttentionKernels.Combine"/>.</summary>
    public ArrayView<float> PartMax, PartSum, PartOut;

    /// <summary>Per sequence: non-zero when the dense (cuBLAS) prefill path computes its tokens, so the kernels skip them.</summary>
    public ArrayView<int> Dense;
    public int HasDense;
}

public static class AttentionKernels
{
    /// <summary>Copies each token's k and v rows into the paged caches at its slot; one thread per element.</summary>
    public static void WriteKv(AttentionArgs a)
    {
        int row = a.KvHeads * a.HeadDim;
        int n = a.Batch.Tokens * row;
        for (int i = Grid.GlobalIndex.X; i < n; i += Grid.DimX * Group.DimX)
        {
            int t = i / row, e = i - t * row;
            int slot = a.Batch.SlotMapping[t];
            if ((uint)slot >= (uint)a.CacheSlots)
            {
                a.Status[Status.BadCacheSlot] = 1;
                continue;
            }
            a.KeyCache[(long)slot * row + e] = a.K[i];
            a.ValueCache[(long)slot * row + e] = a.V[i];
        }
    }

    /// <summary>
    /// Causal attention of one (token, head, partition of PartitionKeys keys) per group over the token's sequence up to
    /// its own position, through the block table. Each warp walks every warps-th key of the partition with an online
    /// softmax (running max and sum, accumulator in shared memory); the warps are merged at the end, into the output when
    /// there is one partition, else into the partition's (max, sum, unnormalised output) for <see cref="Combine"/>.
    /// Shared: q [hd], acc [warps·hd], m and l [2·warps].
    /// </summary>
    public static void Attend(AttentionArgs a)
    {
        int hd = a.HeadDim, warps = Group.DimX / Warp.WarpSize, w = Warp.WarpIdx, lane = Warp.LaneIdx;
        var shared = SharedMemory.GetDynamic<float>();
        var q = shared.SubView(0, hd);
        var acc = shared.SubView(hd, warps * hd);
        var ml = shared.SubView(hd + warps * hd, 2 * warps);
        int job = Grid.IdxX / a.Partitions, part = Grid.IdxX - job * a.Partitions;
        int t = job / a.Heads, h = job - t * a.Heads;
        int kvh = h / (a.Heads / a.KvHeads);
        int s = a.Batch.SeqOf[t];
        if (a.HasDense != 0 && a.Dense[s] != 0) return;
        int context = a.Batch.Positions[t] + 1;
        int from = part * a.PartitionKeys, to = from + a.PartitionKeys < context ? from + a.PartitionKeys : context;
        if (from >= context)
        {
            // A partition past this token's context (partitions cover the longest context, or a recorded step's capacity).
            long eb = (long)Grid.IdxX * hd;
            for (int d = Group.IdxX; d < hd; d += Group.DimX) a.PartOut[eb + d] = 0f;
            if (Group.IdxX == 0)
            {
                a.PartMax[Grid.IdxX] = float.NegativeInfinity;
                a.PartSum[Grid.IdxX] = 0f;
            }
            return;
        }
        long qb = ((long)t * a.Heads + h) * hd;
        for (int d = Group.IdxX; d < hd; d += Group.DimX) q[d] = a.Q[qb + d];
        for (int d = lane; d < hd; d += Warp.WarpSize) acc[w * hd + d] = 0f;
        Group.Barrier();

        float m = float.NegativeInfinity, l = 0f;
        int bs = a.Batch.BlockSize;
        long rowLen = (long)a.KvHeads * hd;
        for (int p = from + w; p < to; p += warps)
        {
            int slot = a.Batch.BlockTable[s * a.Batch.MaxBlocksPerSeq + p / bs] * bs + p % bs;
            if ((uint)slot >= (uint)a.CacheSlots)
            {
                a.Status[Status.BadCacheSlot] = 1;
                continue;
            }
            long kb = slot * rowLen + (long)kvh * hd;
            float dot = 0f;
            for (int d = lane; d < hd; d += Warp.WarpSize) dot += q[d] * a.KeyCache[kb + d];
            float score = Reduce.WarpSum(dot) * a.Scale;
            float mNew = score > m ? score : m;
            float correction = XMath.Exp(m - mNew);
            float pe = XMath.Exp(score - mNew);
            l = l * correction + pe;
            for (int d = lane; d < hd; d += Warp.WarpSize)
                acc[w * hd + d] = acc[w * hd + d] * correction + pe * a.ValueCache[kb + d];
            m = mNew;
        }
        if (lane == 0)
        {
            ml[w] = m;
            ml[warps + w] = l;
        }
        Group.Barrier();

        float mAll = float.NegativeInfinity;
        for (int i = 0; i < warps; i++) mAll = ml[i] > mAll ? ml[i] : mAll;
        float lAll = 0f;
        for (int i = 0; i < warps; i++)
            if (ml[warps + i] > 0f) lAll += ml[warps + i] * XMath.Exp(ml[i] - mAll);
        long pb = (long)Grid.IdxX * hd;
        for (int d = Group.IdxX; d < hd; d += Group.DimX)
        {
            float o = 0f;
            for (int i = 0; i < warps; i++)
                if (ml[warps + i] > 0f) o += acc[i * hd + d] * XMath.Exp(ml[i] - mAll);
            if (a.Partitions == 1) a.Out[qb + d] = o / lAll;
            else a.PartOut[pb + d] = o;
        }
        if (a.Partitions > 1 && Group.IdxX == 0)
        {
            a.PartMax[Grid.IdxX] = mAll;
            a.PartSum[Grid.IdxX] = lAll;
        }
    }

    /// <summary>
    /// Merges the partitions of one (token, head) per group: out = Σ_p o_p·exp(m_p − M) / Σ_p l_p·exp(m_p − M). The
    /// group finds M and the denominator by reductions over the partitions, keeps each partition's factor in shared
    /// memory, then each thread sums its dims over the partitions four at a time (independent loads in flight).
    /// Shared: factor [Partitions], one float per warp.
    /// </summary>
    public static void Combine(AttentionArgs a)
    {
        if (a.HasDense != 0 && a.Dense[a.Batch.SeqOf[Grid.IdxX / a.Heads]] != 0) return;
        int hd = a.HeadDim, parts = a.Partitions;
        var shared = SharedMemory.GetDynamic<float>();
        var factor = shared.SubView(0, parts);
        var scratch = shared.SubView(parts, Group.DimX / Warp.WarpSize);
        long first = (long)Grid.IdxX * parts;
        float m = float.NegativeInfinity;
        for (int p = Group.IdxX; p < parts; p += Group.DimX)
            if (a.PartSum[first + p] > 0f && a.PartMax[first + p] > m) m = a.PartMax[first + p];
        float mAll = Reduce.GroupMax(m, scratch);
        float l = 0f;
        for (int p = Group.IdxX; p < parts; p += Group.DimX)
        {
            float f = a.PartSum[first + p] > 0f ? XMath.Exp(a.PartMax[first + p] - mAll) : 0f;
            factor[p] = f;
            l += a.PartSum[first + p] * f;
        }
        float inv = 1f / Reduce.GroupSum(l, scratch);
        Group.Barrier();
        for (int d = Group.IdxX; d < hd; d += Group.DimX)
        {
            long b = first * hd + d;
            float o0 = 0f, o1 = 0f, o2 = 0f, o3 = 0f;
            int p = 0;
            for (; p + 4 <= parts; p += 4)
            {
                o0 += a.PartOut[b + (long)p * hd] * factor[p];
                o1 += a.PartOut[b + (long)(p + 1) * hd] * factor[p + 1];
                o2 += a.PartOut[b + (long)(p + 2) * hd] * factor[p + 2];
                o3 += a.PartOut[b + (long)(p + 3) * hd] * factor[p + 3];
            }
            for (; p < parts; p++) o0 += a.PartOut[b + (long)p * hd] * factor[p];
            a.Out[(long)Grid.IdxX * hd + d] = (o0 + o1 + o2 + o3) * inv;
        }
    }

    /// <summary>
    /// Row-wise causal softmax in place over scores [heads, rows, keys] of the dense prefill path: row r is query position
    /// firstRow + r of a sequence that starts at position 0, so keys j ≤ firstRow + r are kept and the rest set to 0.
    /// One group per row.
    /// </summary>
    public static void CausalSoftmax(ArrayView<float> scores, int rows, int keys, int firstRow)
    {
        var scratch = SharedMemory.GetDynamic<float>();
        int row = Grid.IdxX, r = row % rows, visible = firstRow + r + 1;
        if (visible > keys) visible = keys;
        long b = (long)row * keys;
        float m = float.NegativeInfinity;
        for (int j = Group.IdxX; j < visible; j += Group.DimX) m = scores[b + j] > m ? scores[b + j] : m;
        m = Reduce.GroupMax(m, scratch);
        float sum = 0f;
        for (int j = Group.IdxX; j < visible; j += Group.DimX)
        {
            float e = XMath.Exp(scores[b + j] - m);
            scores[b + j] = e;
            sum += e;
        }
        sum = Reduce.GroupSum(sum, scratch);
        float inv = 1f / sum;
        for (int j = Group.IdxX; j < keys; j += Group.DimX) scores[b + j] = j < visible ? scores[b + j] * inv : 0f;
    }
}
