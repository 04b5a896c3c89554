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

    /// <summary>
    /// Non-zero when the head dim is a multiple of 4 and Q, the caches, Out and PartOut are 16-byte aligned: the
    /// attention kernels then read and write 4-float chunks through these 128-bit views.
    /// </summary>
    public int Vector;
    public ArrayView<U4> Key4, Value4, Out4, PartOut4;
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

    /// <summary>Keys whose rows a warp loads at once while scoring.</summary>
    private const int ScoreKeys = 8;

    /// <summary>Keys whose value chunks a thread loads at once while summing values.</summary>
    private const int ValueKeys = 8;

    /// <summary>
    /// Causal attention of one (token, head, partition of PartitionKeys keys) per group over the token's sequence up to
    /// its own position, through the block table, in phases that each wait on memory once or twice rather than once per
    /// key: the partition's cache slots into shared memory; scores, each warp taking every warps-th key with
    /// <see cref="ScoreKeys"/> key rows in flight (4-float chunks, 128-bit loads when <see cref="AttentionArgs.Vector"/>);
    /// the partition's softmax numerators; then the values, each thread owning a 4-float chunk of the head for a subset
    /// of the keys with <see cref="ValueKeys"/> in flight, subsets summed through shared memory. The result goes to the
    /// output when there is one partition, else to the partition's (max, sum, unnormalised output) for
    /// <see cref="Combine"/>; a partition past the token's context does nothing (Combine reads only the ones it covers).
    /// Shared: q [4·chunks], scores and numerators [2·PartitionKeys], slots [PartitionKeys], subset sums [4·group].
    /// </summary>
    public static void Attend(AttentionArgs a)
    {
        int hd = a.HeadDim, chunks = (hd + 3) / 4, keysMax = a.PartitionKeys, ws = Warp.WarpSize;
        int warps = Group.DimX / ws, w = Warp.WarpIdx, lane = Warp.LaneIdx, tid = Group.IdxX, threads = Group.DimX;
        int job = Grid.IdxX / a.Partitions, part = Grid.IdxX - job * a.Partitions;
        int t = job / a.Heads, h = job - t * a.Heads;
        if (!Partition(a, t, part, out int s, out int from, out int n)) return;
        var shared = SharedMemory.GetDynamic<float>();
        var q = shared.SubView(0, 4 * chunks);
        var scores = shared.SubView(4 * chunks, keysMax);
        var probs = shared.SubView(4 * chunks + keysMax, keysMax);
        var slots = shared.Cast<int>().SubView(4 * chunks + 2 * keysMax, keysMax);
        var sums = shared.SubView(4 * chunks + 3 * keysMax, 4 * threads);
        int kvh = h / (a.Heads / a.KvHeads);
        long qb = ((long)t * a.Heads + h) * hd;
        long rowLen = (long)a.KvHeads * hd, headOffset = (long)kvh * hd;

        for (int d = tid; d < 4 * chunks; d += threads) q[d] = d < hd ? a.Q[qb + d] : 0f;
        LoadSlots(a, slots, s, from, n);

        for (int i0 = w; i0 < n; i0 += ScoreKeys * warps)
        {
            long b0 = KeyRow(slots, i0, n, rowLen, headOffset), b1 = KeyRow(slots, i0 + warps, n, rowLen, headOffset);
            long b2 = KeyRow(slots, i0 + 2 * warps, n, rowLen, headOffset), b3 = KeyRow(slots, i0 + 3 * warps, n, rowLen, headOffset);
            long b4 = KeyRow(slots, i0 + 4 * warps, n, rowLen, headOffset), b5 = KeyRow(slots, i0 + 5 * warps, n, rowLen, headOffset);
            long b6 = KeyRow(slots, i0 + 6 * warps, n, rowLen, headOffset), b7 = KeyRow(slots, i0 + 7 * warps, n, rowLen, headOffset);
            float d0 = 0f, d1 = 0f, d2 = 0f, d3 = 0f, d4 = 0f, d5 = 0f, d6 = 0f, d7 = 0f;
            for (int c = lane; c < chunks; c += ws)
            {
                F4 k0 = F4.Load(a.KeyCache, a.Key4, b0, c, hd, a.Vector), k1 = F4.Load(a.KeyCache, a.Key4, b1, c, hd, a.Vector);
                F4 k2 = F4.Load(a.KeyCache, a.Key4, b2, c, hd, a.Vector), k3 = F4.Load(a.KeyCache, a.Key4, b3, c, hd, a.Vector);
                F4 k4 = F4.Load(a.KeyCache, a.Key4, b4, c, hd, a.Vector), k5 = F4.Load(a.KeyCache, a.Key4, b5, c, hd, a.Vector);
                F4 k6 = F4.Load(a.KeyCache, a.Key4, b6, c, hd, a.Vector), k7 = F4.Load(a.KeyCache, a.Key4, b7, c, hd, a.Vector);
                F4 qc = F4.Shared(q, c);
                d0 += qc.Dot(k0);
                d1 += qc.Dot(k1);
                d2 += qc.Dot(k2);
                d3 += qc.Dot(k3);
                d4 += qc.Dot(k4);
                d5 += qc.Dot(k5);
                d6 += qc.Dot(k6);
                d7 += qc.Dot(k7);
            }
            for (int o = ws / 2; o > 0; o >>= 1)
            {
                d0 += Warp.ShuffleXor(d0, o);
                d1 += Warp.ShuffleXor(d1, o);
                d2 += Warp.ShuffleXor(d2, o);
                d3 += Warp.ShuffleXor(d3, o);
                d4 += Warp.ShuffleXor(d4, o);
                d5 += Warp.ShuffleXor(d5, o);
                d6 += Warp.ShuffleXor(d6, o);
                d7 += Warp.ShuffleXor(d7, o);
            }
            if (lane == 0)
            {
                Score(scores, i0, n, b0, d0, a.Scale);
                Score(scores, i0 + warps, n, b1, d1, a.Scale);
                Score(scores, i0 + 2 * warps, n, b2, d2, a.Scale);
                Score(scores, i0 + 3 * warps, n, b3, d3, a.Scale);
                Score(scores, i0 + 4 * warps, n, b4, d4, a.Scale);
                Score(scores, i0 + 5 * warps, n, b5, d5, a.Scale);
                Score(scores, i0 + 6 * warps, n, b6, d6, a.Scale);
                Score(scores, i0 + 7 * warps, n, b7, d7, a.Scale);
            }
        }
        Group.Barrier();

        float m = float.NegativeInfinity;
        for (int i = 0; i < n; i++) m = scores[i] > m ? scores[i] : m;
        for (int i = tid; i < n; i += threads) probs[i] = slots[i] >= 0 ? XMath.Exp(scores[i] - m) : 0f;
        Group.Barrier();
        float l = 0f;
        for (int i = 0; i < n; i++) l += probs[i];

        // Values: thread (subset, chunk) sums keys subset, subset + subsets, … of its chunk.
        var split = new ChunkSplit(chunks, tid, threads);
        int subsets = split.Subsets, sub = split.Sub, firstChunk = split.FirstChunk;
        bool partial = a.Partitions > 1;
        long pb = (long)Grid.IdxX * hd;
        for (int c = firstChunk; sub < subsets && c < chunks; c += threads)
        {
            F4 acc = default;
            int step = subsets * ValueKeys;
            for (int i = sub; i < n; i += step)
            {
                int j1 = i + subsets, j2 = j1 + subsets, j3 = j2 + subsets, j4 = j3 + subsets, j5 = j4 + subsets, j6 = j5 + subsets, j7 = j6 + subsets;
                F4 v0 = ValueChunk(a, slots, i, n, rowLen, headOffset, c), v1 = ValueChunk(a, slots, j1, n, rowLen, headOffset, c);
                F4 v2 = ValueChunk(a, slots, j2, n, rowLen, headOffset, c), v3 = ValueChunk(a, slots, j3, n, rowLen, headOffset, c);
                F4 v4 = ValueChunk(a, slots, j4, n, rowLen, headOffset, c), v5 = ValueChunk(a, slots, j5, n, rowLen, headOffset, c);
                F4 v6 = ValueChunk(a, slots, j6, n, rowLen, headOffset, c), v7 = ValueChunk(a, slots, j7, n, rowLen, headOffset, c);
                acc.Add(Prob(probs, i, n), v0);
                acc.Add(Prob(probs, j1, n), v1);
                acc.Add(Prob(probs, j2, n), v2);
                acc.Add(Prob(probs, j3, n), v3);
                acc.Add(Prob(probs, j4, n), v4);
                acc.Add(Prob(probs, j5, n), v5);
                acc.Add(Prob(probs, j6, n), v6);
                acc.Add(Prob(probs, j7, n), v7);
            }
            if (subsets == 1)
            {
                if (partial) acc.Store(a.PartOut, a.PartOut4, pb, c, hd, a.Vector);
                else acc.Scaled(1f / l).Store(a.Out, a.Out4, qb, c, hd, a.Vector);
            }
            else acc.ToShared(sums, 4 * (sub * chunks + c));
        }
        if (subsets > 1)
        {
            Group.Barrier();
            if (sub == 0)
            {
                F4 acc = split.Merge(sums, chunks);
                if (partial) acc.Store(a.PartOut, a.PartOut4, pb, firstChunk, hd, a.Vector);
                else acc.Scaled(1f / l).Store(a.Out, a.Out4, qb, firstChunk, hd, a.Vector);
            }
        }
        if (partial && tid == 0)
        {
            a.PartMax[Grid.IdxX] = m;
            a.PartSum[Grid.IdxX] = l;
        }
    }

    /// <summary>
    /// Token t's sequence <paramref name="s"/> and the keys from … from + n − 1 of partition <paramref name="part"/> of
    /// its context; false when the dense path computes the token or the partition lies past its context.
    /// </summary>
    public static bool Partition(AttentionArgs a, int t, int part, out int s, out int from, out int n)
    {
        s = a.Batch.SeqOf[t];
        from = part * a.PartitionKeys;
        n = 0;
        if (a.HasDense != 0 && a.Dense[s] != 0) return false;
        int context = a.Batch.Positions[t] + 1;
        if (from >= context) return false;
        n = from + a.PartitionKeys < context ? a.PartitionKeys : context - from;
        return true;
    }

    /// <summary>
    /// The cache slots of keys from … from + n − 1 of sequence s into <paramref name="slots"/> by the group, through the
    /// block table (−1 for a slot outside the cache, flagged); ends with a barrier.
    /// </summary>
    public static void LoadSlots(AttentionArgs a, ArrayView<int> slots, int s, int from, int n)
    {
        int bs = a.Batch.BlockSize;
        for (int i = Group.IdxX; i < n; i += Group.DimX)
        {
            int p = from + i;
            int slot = a.Batch.BlockTable[s * a.Batch.MaxBlocksPerSeq + p / bs] * bs + p % bs;
            if ((uint)slot >= (uint)a.CacheSlots)
            {
                a.Status[Status.BadCacheSlot] = 1;
                slot = -1;
            }
            slots[i] = slot;
        }
        Group.Barrier();
    }

    /// <summary>Where key <paramref name="i"/>'s head row starts in the cache (floats), or −1 past the partition or for a bad slot.</summary>
    public static long KeyRow(ArrayView<int> slots, int i, int n, long rowLen, long headOffset)
    {
        if (i >= n) return -1;
        int slot = slots[i];
        return slot < 0 ? -1 : slot * rowLen + headOffset;
    }

    /// <summary>Key i's scaled score (−∞ for a bad slot), if it is in the partition.</summary>
    private static void Score(ArrayView<float> scores, int i, int n, long row, float dot, float scale)
    {
        if (i < n) scores[i] = row >= 0 ? dot * scale : float.NegativeInfinity;
    }

    /// <summary>Chunk c of key i's value row (zeros past the partition or for a bad slot).</summary>
    public static F4 ValueChunk(AttentionArgs a, ArrayView<int> slots, int i, int n, long rowLen, long headOffset, int c) =>
        F4.Load(a.ValueCache, a.Value4, KeyRow(slots, i, n, rowLen, headOffset), c, a.HeadDim, a.Vector);

    private static float Prob(ArrayView<float> probs, int i, int n) => i < n ? probs[i] : 0f;

    /// <summary>
    /// Merges the partitions of one (token, head) per group: out = Σ_p o_p·exp(m_p − M) / Σ_p l_p·exp(m_p − M), over
    /// the partitions that cover the token's context. The group finds M and the denominator by reductions, keeps each
    /// partition's factor in shared memory, then threads (subset, 4-float chunk) sum their chunk over every subsets-th
    /// partition four at a time, the subsets added through shared memory.
    /// Shared: factor [Partitions], one float per warp, subset sums [4·group].
    /// </summary>
    public static void Combine(AttentionArgs a)
    {
        int t = Grid.IdxX / a.Heads;
        if (a.HasDense != 0 && a.Dense[a.Batch.SeqOf[t]] != 0) return;
        int hd = a.HeadDim, chunks = (hd + 3) / 4, tid = Group.IdxX, threads = Group.DimX;
        int context = a.Batch.Positions[t] + 1;
        int covered = (context + a.PartitionKeys - 1) / a.PartitionKeys;
        int parts = covered < a.Partitions ? covered : a.Partitions;
        var shared = SharedMemory.GetDynamic<float>();
        var factor = shared.SubView(0, a.Partitions);
        var scratch = shared.SubView(a.Partitions, threads / Warp.WarpSize);
        var sums = shared.SubView(a.Partitions + threads / Warp.WarpSize, 4 * threads);
        long first = (long)Grid.IdxX * a.Partitions;
        float m = float.NegativeInfinity;
        for (int p = tid; p < parts; p += threads)
            if (a.PartSum[first + p] > 0f && a.PartMax[first + p] > m) m = a.PartMax[first + p];
        float mAll = Reduce.GroupMax(m, scratch);
        float l = 0f;
        for (int p = tid; p < parts; p += threads)
        {
            float f = a.PartSum[first + p] > 0f ? XMath.Exp(a.PartMax[first + p] - mAll) : 0f;
            factor[p] = f;
            l += a.PartSum[first + p] * f;
        }
        float inv = 1f / Reduce.GroupSum(l, scratch);
        Group.Barrier();

        var split = new ChunkSplit(chunks, tid, threads);
        int subsets = split.Subsets, sub = split.Sub, firstChunk = split.FirstChunk;
        long ob = (long)Grid.IdxX * hd;
        for (int c = firstChunk; sub < subsets && c < chunks; c += threads)
        {
            F4 acc = default;
            for (int p = sub; p < parts; p += 4 * subsets)
            {
                int p1 = p + subsets, p2 = p1 + subsets, p3 = p2 + subsets;
                F4 o0 = F4.Load(a.PartOut, a.PartOut4, (first + p) * hd, c, hd, a.Vector);
                F4 o1 = p1 < parts ? F4.Load(a.PartOut, a.PartOut4, (first + p1) * hd, c, hd, a.Vector) : default;
                F4 o2 = p2 < parts ? F4.Load(a.PartOut, a.PartOut4, (first + p2) * hd, c, hd, a.Vector) : default;
                F4 o3 = p3 < parts ? F4.Load(a.PartOut, a.PartOut4, (first + p3) * hd, c, hd, a.Vector) : default;
                acc.Add(factor[p], o0);
                if (p1 < parts) acc.Add(factor[p1], o1);
                if (p2 < parts) acc.Add(factor[p2], o2);
                if (p3 < parts) acc.Add(factor[p3], o3);
            }
            if (subsets == 1) acc.Scaled(inv).Store(a.Out, a.Out4, ob, c, hd, a.Vector);
            else acc.ToShared(sums, 4 * (sub * chunks + c));
        }
        if (subsets > 1)
        {
            Group.Barrier();
            if (sub == 0) split.Merge(sums, chunks).Scaled(inv).Store(a.Out, a.Out4, ob, firstChunk, hd, a.Vector);
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

/// <summary>
/// How a group's threads share out a head's 4-float chunks when summing over items (keys, partitions): with fewer chunks
/// than threads, thread (subset, chunk) takes items subset, subset + subsets, … of its chunk and the subsets' sums meet
/// in shared memory [subsets · chunks · 4]; otherwise each thread takes chunks tid, tid + threads, … over every item.
/// </summary>
public readonly struct ChunkSplit
{
    public readonly int Subsets, Sub, FirstChunk;

    public ChunkSplit(int chunks, int tid, int threads)
    {
        Subsets = chunks >= threads ? 1 : threads / chunks;
        Sub = chunks >= threads ? 0 : tid / chunks;
        FirstChunk = chunks >= threads ? tid : tid - Sub * chunks;
    }

    /// <summary>The sum of the subsets' partial results for this thread's chunk (after a group barrier).</summary>
    public F4 Merge(ArrayView<float> sums, int chunks)
    {
        F4 acc = F4.Shared(sums, FirstChunk);
        for (int u = 1; u < Subsets; u++) acc.Add(1f, F4.Shared(sums, u * chunks + FirstChunk));
        return acc;
    }
}
