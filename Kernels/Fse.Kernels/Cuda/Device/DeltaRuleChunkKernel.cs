using ILGPU;
using ILGPU.Algorithms;

namespace Fse.Kernels.Cuda.Device;

/// <summary>
/// The chunked (WY) form of the gated delta rule, as HF's <c>torch_chunk_gated_delta_rule</c>: one group per (sequence,
/// value head, block of warp-size value columns), walking the sequence's tokens a chunk of <see cref="DeltaNetArgs.ChunkTokens"/>
/// at a time with the block's [dk, columns] state in shared memory. The rule is separable over value columns, so each
/// lane owns a column; within a chunk every token is worked on at once. Per chunk, with gc the cumulative gates, L the
/// strictly lower −β_i (k_i·k_j) e^(gc_i − gc_j) and QK the lower (q_i·k_j) e^(gc_i − gc_j) (diagonal included):
/// U = β ⊙ (V − e^gc ⊙ K·S); v_new = (I − L)⁻¹ U by forward substitution (each lane its own column, so no
/// group-wide solve of the C×C matrix); O = e^gc ⊙ Q·S + QK·v_new; S ← e^(gc_last) S + (K ⊙ e^(gc_last − gc))ᵀ v_new.
/// q and k are L2-normalised already (<see cref="NormKernels.QueryKeyL2"/>). Padded layouts keep shared reads free of bank
/// conflicts: rows of K by dk + 1 (lanes read different rows in the C×C products), rows of the state by columns + 1 (it is
/// loaded and stored along dk).
/// </summary>
public static class DeltaRuleChunkKernel
{
    /// <summary>Shared floats a group needs for chunks of <paramref name="chunk"/> tokens, key dim <paramref name="dk"/> and warp size <paramref name="ws"/>.</summary>
    public static long SharedFloats(int chunk, int dk, int ws) =>
        (long)chunk * (dk + 1) + (long)chunk * dk + (long)dk * (ws + 1) + 2L * chunk * (chunk + 1) + 2L * chunk * ws + 4L * chunk;

    public static void DeltaRuleChunked(DeltaNetArgs a)
    {
        int dk = a.KeyDim, dv = a.ValueDim, nv = a.ValueHeads, nk = a.KeyHeads, ws = Warp.WarpSize, cs = a.ChunkTokens;
        int blocks = (dv + ws - 1) / ws;
        int job = Grid.IdxX;
        int s = job / (nv * blocks), rest = job - s * nv * blocks, h = rest / blocks, colBase = (rest - h * blocks) * ws;
        int me = Group.IdxX, threads = Group.DimX, lane = Warp.LaneIdx, warp = Warp.WarpIdx, warps = threads / ws;
        int kStride = dk + 1, sStride = ws + 1, cStride = cs + 1;
        var shared = SharedMemory.GetDynamic<float>();
        int at = 0;
        var kc = shared.SubView(at, cs * kStride); at += cs * kStride;
        var qc = shared.SubView(at, cs * dk); at += cs * dk;
        var st = shared.SubView(at, dk * sStride); at += dk * sStride;
        var lm = shared.SubView(at, cs * cStride); at += cs * cStride;
        var qk = shared.SubView(at, cs * cStride); at += cs * cStride;
        var u = shared.SubView(at, cs * ws); at += cs * ws;
        var inter = shared.SubView(at, cs * ws); at += cs * ws;
        var gc = shared.SubView(at, cs); at += cs;
        var beta = shared.SubView(at, cs); at += cs;
        var egc = shared.SubView(at, cs); at += cs;
        var kdecay = shared.SubView(at, cs);

        int first = a.Batch.SeqStart[s], count = a.Batch.SeqStart[s + 1] - first, slot = a.Batch.StateSlot[s];
        if ((uint)slot >= (uint)a.StateSlots)
        {
            if (me == 0) a.Status[Status.BadStateSlot] = 1;
            return;
        }
        bool reset = a.Batch.Reset[s] != 0;
        int kh = h / (nv / nk);
        int qOff = kh * dk, kOff = (nk + kh) * dk, vOff = 2 * nk * dk + h * dv + colBase;
        int col = colBase + lane;
        bool own = col < dv;
        long headBase = ((long)slot * nv + h) * dv * dk;

        // The block's state, loaded along dk (contiguous per column in memory).
        for (int e = me; e < dk * ws; e += threads)
        {
            int c = e / dk, r = e - c * dk;
            st[r * sStride + c] = !reset && colBase + c < dv ? a.RecurrentState[headBase + (long)(colBase + c) * dk + r] : 0f;
        }
        float decayScale = -XMath.Exp(a.ALog[h]), dtBias = a.DtBias[h];

        for (int c0 = 0; c0 < count; c0 += cs)
        {
            int n = XMath.Min(cs, count - c0);
            long t0 = first + c0;
            // Chunk inputs (zeros past its tokens) and each token's gates.
            for (int e = me; e < cs * dk; e += threads)
            {
                int i = e / dk, r = e - i * dk;
                long row = (t0 + i) * a.Channels;
                kc[i * kStride + r] = i < n ? a.Conv[row + kOff + r] : 0f;
                qc[i * dk + r] = i < n ? a.Conv[row + qOff + r] : 0f;
            }
            for (int e = me; e < cs * ws; e += threads)
            {
                int i = e / ws, c = e - i * ws;
                u[e] = i < n && colBase + c < dv ? a.Conv[(t0 + i) * a.Channels + vOff + c] : 0f;
            }
            for (int i = me; i < cs; i += threads)
            {
                long t = t0 + i;
                gc[i] = i < n ? decayScale * Reduce.Softplus(a.A[t * nv + h] + dtBias) : 0f;
                beta[i] = i < n ? Reduce.Sigmoid(a.B[t * nv + h]) : 0f;
            }
            Group.Barrier();
            // Cumulative gates: each token sums its own and its predecessors' (a chunk is short enough to skip a scan).
            float mine = 0f;
            if (me < cs)
                for (int j = 0; j <= me; j++) mine += gc[j];
            Group.Barrier();
            if (me < cs) gc[me] = mine;
            Group.Barrier();
            if (me < cs)
            {
                egc[me] = XMath.Exp(mine);
                kdecay[me] = me < n ? XMath.Exp(gc[n - 1] - mine) : 0f;
            }

            // L and QK (C×C, one entry a thread), and U and the inter-chunk output (a lane per column, rows over warps).
            for (int e = me; e < cs * cs; e += threads)
            {
                int i = e / cs, j = e - i * cs;
                float kk = 0f, qkv = 0f;
                if (j <= i && i < n)
                {
                    for (int r = 0; r < dk; r++)
                    {
                        float kj = kc[j * kStride + r];
                        kk += kc[i * kStride + r] * kj;
                        qkv += qc[i * dk + r] * kj;
                    }
                }
                float decay = j <= i && i < n ? XMath.Exp(gc[i] - gc[j]) : 0f;
                lm[i * cStride + j] = j < i ? -beta[i] * kk * decay : 0f;
                qk[i * cStride + j] = qkv * decay;
            }
            for (int i = warp; i < n; i += warps)
            {
                float ks = 0f, qs = 0f;
                for (int r = 0; r < dk; r++)
                {
                    float sv = st[r * sStride + lane];
                    ks += kc[i * kStride + r] * sv;
                    qs += qc[i * dk + r] * sv;
                }
                float e = XMath.Exp(gc[i]);
                u[i * ws + lane] = beta[i] * (u[i * ws + lane] - e * ks);
                inter[i * ws + lane] = e * qs;
            }
            Group.Barrier();

            // v_new = U + L·v_new, row by row; a lane reads only its own column, so one warp needs no barrier.
            if (warp == 0)
            {
                for (int i = 1; i < n; i++)
                {
                    float acc = u[i * ws + lane];
                    for (int j = 0; j < i; j++) acc += lm[i * cStride + j] * u[j * ws + lane];
                    u[i * ws + lane] = acc;
                }
            }
            Group.Barrier();

            for (int i = warp; i < n; i += warps)
            {
                float o = inter[i * ws + lane];
                for (int j = 0; j <= i; j++) o += qk[i * cStride + j] * u[j * ws + lane];
                if (own) a.Output[((t0 + i) * nv + h) * dv + col] = o;
            }
            float last = n > 0 ? egc[n - 1] : 1f;
            for (int r = warp; r < dk; r += warps)
            {
                float acc = last * st[r * sStride + lane];
                for (int j = 0; j < n; j++) acc += kc[j * kStride + r] * kdecay[j] * u[j * ws + lane];
                st[r * sStride + lane] = acc;
            }
            Group.Barrier();
        }

        for (int e = me; e < dk * ws; e += threads)
        {
            int c = e / dk, r = e - c * dk;
            if (colBase + c < dv) a.RecurrentState[headBase + (long)(colBase + c) * dk + r] = st[r * sStride + c];
        }
    }
}
