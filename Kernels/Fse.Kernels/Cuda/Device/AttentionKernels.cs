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
    /// Causal attention of one (token, head) per group over the token's sequence up to its own position, through the
    /// block table. Each warp walks every warps-th key with an online softmax (running max and sum, accumulator in
    /// shared memory); the warps' partial results are merged at the end. Shared: q [hd], acc [warps·hd], m and l [2·warps].
    /// </summary>
    public static void Attend(AttentionArgs a)
    {
        int hd = a.HeadDim, warps = Group.DimX / Warp.WarpSize, w = Warp.WarpIdx, lane = Warp.LaneIdx;
        var shared = SharedMemory.GetDynamic<float>();
        var q = shared.SubView(0, hd);
        var acc = shared.SubView(hd, warps * hd);
        var ml = shared.SubView(hd + warps * hd, 2 * warps);
        int t = Grid.IdxX / a.Heads, h = Grid.IdxX - t * a.Heads;
        int kvh = h / (a.Heads / a.KvHeads);
        int s = a.Batch.SeqOf[t];
        int context = a.Batch.Positions[t] + 1;
        long qb = ((long)t * a.Heads + h) * hd;
        for (int d = Group.IdxX; d < hd; d += Group.DimX) q[d] = a.Q[qb + d];
        for (int d = lane; d < hd; d += Warp.WarpSize) acc[w * hd + d] = 0f;
        Group.Barrier();

        float m = float.NegativeInfinity, l = 0f;
        int bs = a.Batch.BlockSize;
        long rowLen = (long)a.KvHeads * hd;
        for (int p = w; p < context; p += warps)
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
        for (int d = Group.IdxX; d < hd; d += Group.DimX)
        {
            float o = 0f;
            for (int i = 0; i < warps; i++)
                if (ml[warps + i] > 0f) o += acc[i * hd + d] * XMath.Exp(ml[i] - mAll);
            a.Out[qb + d] = o / lAll;
        }
    }
}
