using ILGPU;
using ILGPU.Algorithms;

namespace Fse.Kernels.Cuda.Device;

/// <summary>
/// Decode attention with each cached key and value read once for all the query heads that share its KV head:
/// <see cref="AttentionKernels.Attend"/> runs a group per query head, so with 8 query heads per KV head (Qwen3-Next) every
/// key and value row was read 8 times. Same partitions, outputs and <see cref="AttentionKernels.Combine"/> as that kernel.
/// </summary>
public static class GroupedQueryAttention
{
    /// <summary>Query heads per KV head the kernel holds (fewer are padded with zero queries, whose results are dropped).</summary>
    public const int MaxHeads = 8;

    /// <summary>Keys a warp scores per pass (their rows in flight together).</summary>
    private const int ScoreKeys = 4;

    /// <summary>Keys whose value chunks a thread loads per pass.</summary>
    private const int ValueKeys = 4;

    /// <summary>Shared floats a group of <paramref name="threads"/> needs for head dim <paramref name="hd"/> and <paramref name="keys"/> keys per partition.</summary>
    public static int SharedFloats(int hd, int keys, int threads)
    {
        int chunks = (hd + 3) / 4, subsets = chunks >= threads ? 1 : threads / chunks;
        return MaxHeads * 4 * chunks + MaxHeads * keys + keys + 2 * MaxHeads + subsets * MaxHeads * 4 * chunks;
    }

    /// <summary>
    /// One group per (token, KV head, partition of PartitionKeys keys) over the token's context, 128-bit loads only
    /// (<see cref="AttentionArgs.Vector"/>): the group's query heads into shared memory; scores, each warp taking every
    /// warps-th key, <see cref="ScoreKeys"/> at a time, one load of a key row serving all heads; each head's softmax
    /// numerators by one warp; then the values, thread (subset, chunk) summing its chunk for every head over a subset of
    /// the keys. Writes Out (one partition) or the partition's (max, sum, unnormalised output) per query head.
    /// Shared: see <see cref="SharedFloats"/>.
    /// </summary>
    public static void Attend(AttentionArgs a)
    {
        int hd = a.HeadDim, chunks = (hd + 3) / 4, keysMax = a.PartitionKeys, ws = Warp.WarpSize;
        int warps = Group.DimX / ws, w = Warp.WarpIdx, lane = Warp.LaneIdx, tid = Group.IdxX, threads = Group.DimX;
        int heads = a.Heads / a.KvHeads;
        int job = Grid.IdxX / a.Partitions, part = Grid.IdxX - job * a.Partitions;
        int t = job / a.KvHeads, kvh = job - t * a.KvHeads;
        if (!AttentionKernels.Partition(a, t, part, out int s, out int from, out int n)) return;
        int qStride = 4 * chunks;
        var shared = SharedMemory.GetDynamic<float>();
        var q = shared.SubView(0, MaxHeads * qStride);
        var probs = shared.SubView(MaxHeads * qStride, MaxHeads * keysMax);
        var slots = shared.Cast<int>().SubView(MaxHeads * qStride + MaxHeads * keysMax, keysMax);
        var stats = shared.SubView(MaxHeads * qStride + MaxHeads * keysMax + keysMax, 2 * MaxHeads);
        int firstHead = kvh * heads;
        long rowLen = (long)a.KvHeads * hd, headOffset = (long)kvh * hd;

        for (int d = tid; d < MaxHeads * qStride; d += threads)
        {
            int g = d / qStride, e = d - g * qStride;
            q[d] = g < heads && e < hd ? a.Q[((long)t * a.Heads + firstHead + g) * hd + e] : 0f;
        }
        AttentionKernels.LoadSlots(a, slots, s, from, n);

        for (int i0 = w; i0 < n; i0 += ScoreKeys * warps)
        {
            long b0 = AttentionKernels.KeyRow(slots, i0, n, rowLen, headOffset), b1 = AttentionKernels.KeyRow(slots, i0 + warps, n, rowLen, headOffset);
            long b2 = AttentionKernels.KeyRow(slots, i0 + 2 * warps, n, rowLen, headOffset), b3 = AttentionKernels.KeyRow(slots, i0 + 3 * warps, n, rowLen, headOffset);
            Dots8 d0 = default, d1 = default, d2 = default, d3 = default;
            for (int c = lane; c < chunks; c += ws)
            {
                F4 k0 = F4.Load(a.KeyCache, a.Key4, b0, c, hd, a.Vector), k1 = F4.Load(a.KeyCache, a.Key4, b1, c, hd, a.Vector);
                F4 k2 = F4.Load(a.KeyCache, a.Key4, b2, c, hd, a.Vector), k3 = F4.Load(a.KeyCache, a.Key4, b3, c, hd, a.Vector);
                d0.Add(q, qStride, c, k0);
                d1.Add(q, qStride, c, k1);
                d2.Add(q, qStride, c, k2);
                d3.Add(q, qStride, c, k3);
            }
            d0.WarpSum();
            d1.WarpSum();
            d2.WarpSum();
            d3.WarpSum();
            if (lane == 0)
            {
                d0.Score(probs, keysMax, i0, n, b0, a.Scale);
                d1.Score(probs, keysMax, i0 + warps, n, b1, a.Scale);
                d2.Score(probs, keysMax, i0 + 2 * warps, n, b2, a.Scale);
                d3.Score(probs, keysMax, i0 + 3 * warps, n, b3, a.Scale);
            }
        }
        Group.Barrier();

        // Each head's max and numerators (in place of its scores) and their sum, one warp per head.
        for (int g = w; g < heads; g += warps)
        {
            var row = probs.SubView(g * keysMax, keysMax);
            float m = float.NegativeInfinity;
            for (int i = lane; i < n; i += ws) m = row[i] > m ? row[i] : m;
            m = Reduce.WarpMax(m);
            float l = 0f;
            for (int i = lane; i < n; i += ws)
            {
                float p = slots[i] >= 0 ? XMath.Exp(row[i] - m) : 0f;
                row[i] = p;
                l += p;
            }
            l = Reduce.WarpSum(l);
            if (lane == 0)
            {
                stats[g] = m;
                stats[MaxHeads + g] = l;
            }
        }
        Group.Barrier();

        var split = new ChunkSplit(chunks, tid, threads);
        int subsets = split.Subsets, sub = split.Sub;
        var sums = shared.SubView(MaxHeads * qStride + MaxHeads * keysMax + keysMax + 2 * MaxHeads, subsets * MaxHeads * qStride);
        for (int c = split.FirstChunk; sub < subsets && c < chunks; c += threads)
        {
            Acc8 acc = default;
            for (int i = sub; i < n; i += subsets * ValueKeys)
            {
                int j1 = i + subsets, j2 = j1 + subsets, j3 = j2 + subsets;
                F4 v0 = AttentionKernels.ValueChunk(a, slots, i, n, rowLen, headOffset, c), v1 = AttentionKernels.ValueChunk(a, slots, j1, n, rowLen, headOffset, c);
                F4 v2 = AttentionKernels.ValueChunk(a, slots, j2, n, rowLen, headOffset, c), v3 = AttentionKernels.ValueChunk(a, slots, j3, n, rowLen, headOffset, c);
                acc.Add(probs, keysMax, i, n, v0);
                acc.Add(probs, keysMax, j1, n, v1);
                acc.Add(probs, keysMax, j2, n, v2);
                acc.Add(probs, keysMax, j3, n, v3);
            }
            if (subsets == 1) Store(a, acc, stats, t, firstHead, heads, part, c);
            else acc.ToShared(sums, (sub * MaxHeads) * qStride, qStride, c);
        }
        if (subsets > 1)
        {
            Group.Barrier();
            if (sub == 0)
            {
                int c = split.FirstChunk;
                Acc8 acc = default;
                for (int u = 0; u < subsets; u++) acc.AddShared(sums, u * MaxHeads * qStride, qStride, c);
                Store(a, acc, stats, t, firstHead, heads, part, c);
            }
        }
        if (tid < heads && a.Partitions > 1)
        {
            long at = ((long)t * a.Heads + firstHead + tid) * a.Partitions + part;
            a.PartMax[at] = stats[tid];
            a.PartSum[at] = stats[MaxHeads + tid];
        }
    }

    /// <summary>Chunk c of each head's output: to Out divided by the head's sum (one partition), else unnormalised to PartOut.</summary>
    private static void Store(AttentionArgs a, Acc8 acc, ArrayView<float> stats, int t, int firstHead, int heads, int part, int c)
    {
        for (int g = 0; g < heads; g++)
        {
            long job = (long)t * a.Heads + firstHead + g;
            F4 v = acc.Get(g);
            if (a.Partitions > 1) v.Store(a.PartOut, a.PartOut4, (job * a.Partitions + part) * a.HeadDim, c, a.HeadDim, a.Vector);
            else v.Scaled(1f / stats[MaxHeads + g]).Store(a.Out, a.Out4, job * a.HeadDim, c, a.HeadDim, a.Vector);
        }
    }
}

/// <summary>One key's dot products with the up to eight query heads of <see cref="GroupedQueryAttention"/>.</summary>
public struct Dots8
{
    public float D0, D1, D2, D3, D4, D5, D6, D7;

    /// <summary>Adds chunk c of each head's query (shared, heads <paramref name="stride"/> floats apart) dotted with <paramref name="k"/>.</summary>
    public void Add(ArrayView<float> q, int stride, int c, F4 k)
    {
        D0 += F4.Shared(q, c).Dot(k);
        D1 += F4.Shared(q.SubView(stride, stride), c).Dot(k);
        D2 += F4.Shared(q.SubView(2 * stride, stride), c).Dot(k);
        D3 += F4.Shared(q.SubView(3 * stride, stride), c).Dot(k);
        D4 += F4.Shared(q.SubView(4 * stride, stride), c).Dot(k);
        D5 += F4.Shared(q.SubView(5 * stride, stride), c).Dot(k);
        D6 += F4.Shared(q.SubView(6 * stride, stride), c).Dot(k);
        D7 += F4.Shared(q.SubView(7 * stride, stride), c).Dot(k);
    }

    public void WarpSum()
    {
        D0 = Reduce.WarpSum(D0);
        D1 = Reduce.WarpSum(D1);
        D2 = Reduce.WarpSum(D2);
        D3 = Reduce.WarpSum(D3);
        D4 = Reduce.WarpSum(D4);
        D5 = Reduce.WarpSum(D5);
        D6 = Reduce.WarpSum(D6);
        D7 = Reduce.WarpSum(D7);
    }

    /// <summary>Key i's scaled scores into each head's row of <paramref name="scores"/> (−∞ for a bad slot), if it is in the partition.</summary>
    public readonly void Score(ArrayView<float> scores, int keys, int i, int n, long row, float scale)
    {
        if (i >= n) return;
        bool ok = row >= 0;
        scores[i] = ok ? D0 * scale : float.NegativeInfinity;
        scores[keys + i] = ok ? D1 * scale : float.NegativeInfinity;
        scores[2 * keys + i] = ok ? D2 * scale : float.NegativeInfinity;
        scores[3 * keys + i] = ok ? D3 * scale : float.NegativeInfinity;
        scores[4 * keys + i] = ok ? D4 * scale : float.NegativeInfinity;
        scores[5 * keys + i] = ok ? D5 * scale : float.NegativeInfinity;
        scores[6 * keys + i] = ok ? D6 * scale : float.NegativeInfinity;
        scores[7 * keys + i] = ok ? D7 * scale : float.NegativeInfinity;
    }
}

/// <summary>One value chunk's weighted sums for the up to eight query heads of <see cref="GroupedQueryAttention"/>.</summary>
public struct Acc8
{
    public F4 A0, A1, A2, A3, A4, A5, A6, A7;

    /// <summary>Adds each head's numerator for key i (rows <paramref name="keys"/> apart in <paramref name="probs"/>) times <paramref name="v"/>.</summary>
    public void Add(ArrayView<float> probs, int keys, int i, int n, F4 v)
    {
        if (i >= n) return;
        A0.Add(probs[i], v);
        A1.Add(probs[keys + i], v);
        A2.Add(probs[2 * keys + i], v);
        A3.Add(probs[3 * keys + i], v);
        A4.Add(probs[4 * keys + i], v);
        A5.Add(probs[5 * keys + i], v);
        A6.Add(probs[6 * keys + i], v);
        A7.Add(probs[7 * keys + i], v);
    }

    public readonly F4 Get(int g) => g switch { 0 => A0, 1 => A1, 2 => A2, 3 => A3, 4 => A4, 5 => A5, 6 => A6, _ => A7 };

    /// <summary>Each head's chunk c into shared memory from <paramref name="at"/>, heads <paramref name="stride"/> floats apart.</summary>
    public readonly void ToShared(ArrayView<float> s, int at, int stride, int c)
    {
        A0.ToShared(s, at + 4 * c);
        A1.ToShared(s, at + stride + 4 * c);
        A2.ToShared(s, at + 2 * stride + 4 * c);
        A3.ToShared(s, at + 3 * stride + 4 * c);
        A4.ToShared(s, at + 4 * stride + 4 * c);
        A5.ToShared(s, at + 5 * stride + 4 * c);
        A6.ToShared(s, at + 6 * stride + 4 * c);
        A7.ToShared(s, at + 7 * stride + 4 * c);
    }

    /// <summary>Adds what <see cref="ToShared"/> stored at <paramref name="at"/>.</summary>
    public void AddShared(ArrayView<float> s, int at, int stride, int c)
    {
        A0.Add(1f, F4.Shared(s.SubView(at, stride), c));
        A1.Add(1f, F4.Shared(s.SubView(at + stride, stride), c));
        A2.Add(1f, F4.Shared(s.SubView(at + 2 * stride, stride), c));
        A3.Add(1f, F4.Shared(s.SubView(at + 3 * stride, stride), c));
        A4.Add(1f, F4.Shared(s.SubView(at + 4 * stride, stride), c));
        A5.Add(1f, F4.Shared(s.SubView(at + 5 * stride, stride), c));
        A6.Add(1f, F4.Shared(s.SubView(at + 6 * stride, stride), c));
        A7.Add(1f, F4.Shared(s.SubView(at + 7 * stride, stride), c));
    }
}
