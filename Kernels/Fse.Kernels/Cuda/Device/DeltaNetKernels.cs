using ILGPU;
using ILGPU.Algorithms;

namespace Fse.Kernels.Cuda.Device;

public struct DeltaNetArgs
{
    public ArrayView<float> Mixed, ConvWeight, ConvState, Conv, Z, B, A, ALog, DtBias, NormWeight, RecurrentState, Output;
    public BatchView Batch;
    public int KeyHeads, KeyDim, ValueHeads, ValueDim, Kernel, Channels, StateSlots;

    /// <summary>Value columns per group of <see cref="DeltaNetKernels.DeltaRule"/> (its group size).</summary>
    public int Columns;

    /// <summary>
    /// Non-zero when <see cref="DeltaNetKernels.DeltaRuleWarp"/> applies the q/k L2 norms itself (decode steps); zero when
    /// <see cref="NormKernels.QueryKeyL2"/> has normalised the conv output already (prefills, where two more warp sums
    /// per token on the sequential path cost more than the extra launch).
    /// </summary>
    public int NormalizeQueryKey;

    /// <summary>Tokens per chunk of <see cref="DeltaRuleChunkKernel.DeltaRuleChunked"/>.</summary>
    public int ChunkTokens;

    /// <summary>The gated RMSNorm's epsilon (<see cref="DeltaNetKernels.DeltaRuleHeadNorm"/> applies the norm itself).</summary>
    public float NormEps;
    public ArrayView<int> Status;
}

public static class DeltaNetKernels
{
    /// <summary>
    /// Depthwise causal conv + SiLU, one thread per (sequence, channel) walking the sequence's tokens, then its conv state
    /// updated: for decode steps, where each sequence has a token or two. The window's first K-1 inputs come from the conv
    /// state (zeros on reset), which is updated to the last K-1 inputs.
    /// </summary>
    public static void CausalConv(DeltaNetArgs a)
    {
        int n = a.Batch.Sequences * a.Channels;
        for (int job = Grid.GlobalIndex.X; job < n; job += Grid.DimX * Group.DimX)
        {
            int s = job / a.Channels, c = job - s * a.Channels;
            if (!StateBase(a, s, c, out long sb)) continue;
            int first = a.Batch.SeqStart[s], count = a.Batch.SeqStart[s + 1] - first;
            bool reset = a.Batch.Reset[s] != 0;
            for (int i = 0; i < count; i++) a.Conv[(long)(first + i) * a.Channels + c] = ConvAt(a, first, i, c, sb, reset);
            UpdateConvState(a, first, count, c, sb, reset);
        }
    }

    /// <summary>The conv outputs of a prefill, one thread per (token, channel); <see cref="CausalConvState"/> runs after it.</summary>
    public static void CausalConvTokens(DeltaNetArgs a)
    {
        int n = a.Batch.Tokens * a.Channels;
        for (int job = Grid.GlobalIndex.X; job < n; job += Grid.DimX * Group.DimX)
        {
            int t = job / a.Channels, c = job - t * a.Channels, s = a.Batch.SeqOf[t];
            if (!StateBase(a, s, c, out long sb)) continue;
            int first = a.Batch.SeqStart[s];
            a.Conv[(long)t * a.Channels + c] = ConvAt(a, first, t - first, c, sb, a.Batch.Reset[s] != 0);
        }
    }

    /// <summary>Each (sequence, channel)'s conv state set to its last K-1 inputs, after <see cref="CausalConvTokens"/> read the old one.</summary>
    public static void CausalConvState(DeltaNetArgs a)
    {
        int n = a.Batch.Sequences * a.Channels;
        for (int job = Grid.GlobalIndex.X; job < n; job += Grid.DimX * Group.DimX)
        {
            int s = job / a.Channels, c = job - s * a.Channels;
            if (!StateBase(a, s, c, out long sb)) continue;
            int first = a.Batch.SeqStart[s];
            UpdateConvState(a, first, a.Batch.SeqStart[s + 1] - first, c, sb, a.Batch.Reset[s] != 0);
        }
    }

    private static bool StateBase(DeltaNetArgs a, int s, int c, out long stateBase)
    {
        int slot = a.Batch.StateSlot[s];
        stateBase = ((long)slot * a.Channels + c) * (a.Kernel - 1);
        if ((uint)slot < (uint)a.StateSlots) return true;
        a.Status[Status.BadStateSlot] = 1;
        return false;
    }

    private static float ConvAt(DeltaNetArgs a, int first, int i, int c, long sb, bool reset)
    {
        int hist = a.Kernel - 1;
        float acc = 0f;
        for (int j = 0; j < a.Kernel; j++)
        {
            int src = i - hist + j;
            float x = src >= 0 ? a.Mixed[(long)(first + src) * a.Channels + c] : reset ? 0f : a.ConvState[sb + hist + src];
            acc += a.ConvWeight[c * a.Kernel + j] * x;
        }
        return Reduce.Silu(acc);
    }

    private static void UpdateConvState(DeltaNetArgs a, int first, int count, int c, long sb, bool reset)
    {
        int hist = a.Kernel - 1;
        // Ascending j reads state entries (count + j) above the ones already overwritten.
        for (int j = 0; j < hist; j++)
        {
            int src = count - hist + j;
            a.ConvState[sb + j] = src >= 0 ? a.Mixed[(long)(first + src) * a.Channels + c] : reset ? 0f : a.ConvState[sb + hist + src];
        }
    }

    /// <summary>
    /// Where value column <paramref name="col"/> of a head's state starts. The backend keeps the [slots, heads, dk, dv]
    /// state tensor column-major within each head ([slots, heads, dv, dk] in memory; nothing outside these kernels reads
    /// it), so the dk entries of a column are contiguous: a warp loads its column in 128-byte lines, not one line per row.
    /// </summary>
    private static long StateColumn(int slot, int heads, int h, int dv, int col, int dk) => (((long)slot * heads + h) * dv + col) * dk;

    /// <summary>Rows of the state a lane of <see cref="DeltaRuleWarp"/> keeps in registers: it runs when dk ≤ this × warp size.</summary>
    public const int RowsPerLane = 4;

    /// <summary>
    /// The gated delta rule, one warp per (sequence, value head, value column): the column's dk state values sit in
    /// registers, RowsPerLane per lane (rows lane, lane + 32, …), so a token costs three warp sums instead of a walk over
    /// dk in shared memory, and a head's dv columns run as dv independent warps. In decode steps it reads the raw conv
    /// output and applies the q/k L2 norms itself (<see cref="DeltaNetArgs.NormalizeQueryKey"/>: the lane holds the whole
    /// q and k heads, so |q| and |k| are two more warp sums), which saves the separate <see cref="NormKernels.QueryKeyL2"/> launch. Per token, from one read of the state, with
    /// k̂ = k/|k| and q̂ = q/(|q|·sqrt(dk)): Sk = Sᵀk̂ and Sq = Sᵀq̂; δ = (v − e^g·Sk)·β; o = e^g·Sq + δ·(k̂·q̂) (= S'ᵀq̂);
    /// then S' = e^g·S + k̂⊗δ.
    /// </summary>
    public static void DeltaRuleWarp(DeltaNetArgs a)
    {
        int dk = a.KeyDim, dv = a.ValueDim, nv = a.ValueHeads, nk = a.KeyHeads, ws = Warp.WarpSize, lane = Warp.LaneIdx;
        // The successor may launch now; the column's state (and the step's batch tables) are read before the wait for
        // the conv: no kernel of the step writes them before this one.
        GridDependency.Trigger();
        int job = Grid.IdxX * (Group.DimX / ws) + Warp.WarpIdx;
        int perSeq = nv * dv;
        if (job >= a.Batch.Sequences * perSeq) return;
        int s = job / perSeq, rest = job - s * perSeq, h = rest / dv, col = rest - h * dv;
        int first = a.Batch.SeqStart[s], count = a.Batch.SeqStart[s + 1] - first, slot = a.Batch.StateSlot[s];
        if ((uint)slot >= (uint)a.StateSlots)
        {
            if (lane == 0) a.Status[Status.BadStateSlot] = 1;
            return;
        }
        bool reset = a.Batch.Reset[s] != 0;
        int r0 = lane, r1 = lane + ws, r2 = lane + 2 * ws, r3 = lane + 3 * ws;
        long rb = StateColumn(slot, nv, h, dv, col, dk);
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        if (!reset)
        {
            if (r0 < dk) s0 = a.RecurrentState[rb + r0];
            if (r1 < dk) s1 = a.RecurrentState[rb + r1];
            if (r2 < dk) s2 = a.RecurrentState[rb + r2];
            if (r3 < dk) s3 = a.RecurrentState[rb + r3];
        }
        GridDependency.WaitOnly();
        int kh = h / (nv / nk);
        int qOff = kh * dk, kOff = (nk + kh) * dk, vOff = 2 * nk * dk + h * dv + col;
        float decayScale = -XMath.Exp(a.ALog[h]), dtBias = a.DtBias[h], queryScale = 1f / XMath.Sqrt(dk);
        // Token i + 1's inputs are loaded while token i is computed, so the loop waits on memory once, not per token.
        var next = count > 0 ? DeltaToken.Load(a, first, lane, qOff, kOff, vOff) : default;
        float decays = 0f, betas = 0f;
        for (int i = 0; i < count; i++)
        {
            long t = first + i;
            int inBlock = i % ws;
            if (inBlock == 0)
            {
                // The head's gates for the next warp-size tokens, one token per lane, shared by shuffles below: the
                // transcendentals would otherwise dominate the loop.
                long u = t + lane;
                if (i + lane < count)
                {
                    decays = XMath.Exp(decayScale * Reduce.Softplus(a.A[u * nv + h] + dtBias));
                    betas = Reduce.Sigmoid(a.B[u * nv + h]);
                }
            }
            var x = next;
            if (i + 1 < count) next = DeltaToken.Load(a, t + 1, lane, qOff, kOff, vOff);
            float decay = Warp.Shuffle(decays, inBlock);
            float beta = Warp.Shuffle(betas, inBlock);
            float sk = s0 * x.K0 + s1 * x.K1 + s2 * x.K2 + s3 * x.K3;
            float sq = s0 * x.Q0 + s1 * x.Q1 + s2 * x.Q2 + s3 * x.Q3;
            float kq = x.K0 * x.Q0 + x.K1 * x.Q1 + x.K2 * x.Q2 + x.K3 * x.Q3;
            for (int o = ws / 2; o > 0; o >>= 1)
            {
                sk += Warp.ShuffleXor(sk, o);
                sq += Warp.ShuffleXor(sq, o);
                kq += Warp.ShuffleXor(kq, o);
            }
            float ik = 1f, iq = 1f;
            if (a.NormalizeQueryKey != 0)
            {
                // The L2 norms of q and k (eps inside the root, q also by 1/sqrt(dk)) applied to the sums: k̂ = k·ik, q̂ = q·iq.
                float kk = x.K0 * x.K0 + x.K1 * x.K1 + x.K2 * x.K2 + x.K3 * x.K3;
                float qq = x.Q0 * x.Q0 + x.Q1 * x.Q1 + x.Q2 * x.Q2 + x.Q3 * x.Q3;
                for (int o = ws / 2; o > 0; o >>= 1)
                {
                    kk += Warp.ShuffleXor(kk, o);
                    qq += Warp.ShuffleXor(qq, o);
                }
                ik = 1f / XMath.Sqrt(kk + 1e-6f);
                iq = queryScale / XMath.Sqrt(qq + 1e-6f);
            }
            float delta = (x.V - decay * sk * ik) * beta;
            float kDelta = ik * delta;
            s0 = decay * s0 + x.K0 * kDelta;
            s1 = decay * s1 + x.K1 * kDelta;
            s2 = decay * s2 + x.K2 * kDelta;
            s3 = decay * s3 + x.K3 * kDelta;
            if (lane == 0) a.Output[(t * nv + h) * dv + col] = decay * sq * iq + delta * kq * ik * iq;
        }
        if (r0 < dk) a.RecurrentState[rb + r0] = s0;
        if (r1 < dk) a.RecurrentState[rb + r1] = s1;
        if (r2 < dk) a.RecurrentState[rb + r2] = s2;
        if (r3 < dk) a.RecurrentState[rb + r3] = s3;
    }

    /// <summary>Value columns a warp of <see cref="DeltaRuleHeadNorm"/> updates at once (their state loads in flight together).</summary>
    public const int HeadColumnsPerPass = 4;

    /// <summary>
    /// Decode steps of one token per sequence: the delta rule of <see cref="DeltaRuleWarp"/> (q/k L2 norms folded in) and
    /// then the gated RMSNorm over the head's outputs, one group per (sequence, value head). The group's warps take the
    /// head's dv columns <see cref="HeadColumnsPerPass"/> contiguous columns at a time, the column-independent terms
    /// (|q|, |k|, k·q, the gates) once per warp; the outputs meet in shared memory for the norm. One launch and one
    /// round trip of the outputs fewer than the delta rule and <see cref="NormKernels.GatedRmsNorm"/> apart.
    /// Shared: dv outputs, one float per warp.
    /// </summary>
    public static void DeltaRuleHeadNorm(DeltaNetArgs a)
    {
        int dk = a.KeyDim, dv = a.ValueDim, nv = a.ValueHeads, nk = a.KeyHeads, ws = Warp.WarpSize, lane = Warp.LaneIdx;
        int warps = Group.DimX / ws;
        int s = Grid.IdxX / nv, h = Grid.IdxX - s * nv;
        var shared = SharedMemory.GetDynamic<float>();
        var outs = shared.SubView(0, dv);
        var scratch = shared.SubView(dv, warps);
        int slot = a.Batch.StateSlot[s];
        if ((uint)slot >= (uint)a.StateSlots)
        {
            // The whole group leaves: none of it reaches a barrier.
            if (Group.IdxX == 0) a.Status[Status.BadStateSlot] = 1;
            return;
        }
        long t = a.Batch.SeqStart[s];
        bool reset = a.Batch.Reset[s] != 0;
        int kh = h / (nv / nk);
        int qOff = kh * dk, kOff = (nk + kh) * dk, vOff = 2 * nk * dk + h * dv;
        var x = DeltaToken.Load(a, t, lane, qOff, kOff, vOff);
        float decay = XMath.Exp(-XMath.Exp(a.ALog[h]) * Reduce.Softplus(a.A[t * nv + h] + a.DtBias[h]));
        float beta = Reduce.Sigmoid(a.B[t * nv + h]);
        float kq = x.K0 * x.Q0 + x.K1 * x.Q1 + x.K2 * x.Q2 + x.K3 * x.Q3;
        float kk = x.K0 * x.K0 + x.K1 * x.K1 + x.K2 * x.K2 + x.K3 * x.K3;
        float qq = x.Q0 * x.Q0 + x.Q1 * x.Q1 + x.Q2 * x.Q2 + x.Q3 * x.Q3;
        for (int o = ws / 2; o > 0; o >>= 1)
        {
            kq += Warp.ShuffleXor(kq, o);
            kk += Warp.ShuffleXor(kk, o);
            qq += Warp.ShuffleXor(qq, o);
        }
        float ik = 1f / XMath.Sqrt(kk + 1e-6f), iq = 1f / XMath.Sqrt(dk) / XMath.Sqrt(qq + 1e-6f);
        long row = t * a.Channels;
        for (int c0 = Warp.WarpIdx * HeadColumnsPerPass; c0 < dv; c0 += warps * HeadColumnsPerPass)
        {
            var c1 = HeadColumn.Load(a, slot, h, c0, lane, reset, row + vOff);
            var c2 = HeadColumn.Load(a, slot, h, c0 + 1, lane, reset, row + vOff);
            var c3 = HeadColumn.Load(a, slot, h, c0 + 2, lane, reset, row + vOff);
            var c4 = HeadColumn.Load(a, slot, h, c0 + 3, lane, reset, row + vOff);
            c1.Update(a, x, decay, beta, ik, iq, kq, lane, outs);
            c2.Update(a, x, decay, beta, ik, iq, kq, lane, outs);
            c3.Update(a, x, decay, beta, ik, iq, kq, lane, outs);
            c4.Update(a, x, decay, beta, ik, iq, kq, lane, outs);
        }
        Group.Barrier();
        float ss = 0f;
        for (int i = Group.IdxX; i < dv; i += Group.DimX) ss += outs[i] * outs[i];
        float inv = 1f / XMath.Sqrt(Reduce.GroupSum(ss, scratch) / dv + a.NormEps);
        long ob = (t * nv + h) * dv;
        for (int i = Group.IdxX; i < dv; i += Group.DimX)
            a.Output[ob + i] = outs[i] * inv * a.NormWeight[i] * Reduce.Silu(a.Z[ob + i]);
    }

    /// <summary>
    /// The gated delta rule for key dims too wide for <see cref="DeltaRuleWarp"/>: one group per (sequence, value head, block of Columns value columns): each thread owns one
    /// column of the head's [dk, dv] state, kept in shared memory while the group walks the sequence's tokens (the rule
    /// is separable over value columns). Per token: S ← S·exp(g); δ = (v − Sᵀk)·β; S ← S + k⊗δ; o = Sᵀq.
    /// Shared: state [dk, Columns], k [dk], q [dk].
    /// </summary>
    public static void DeltaRule(DeltaNetArgs a)
    {
        int dk = a.KeyDim, dv = a.ValueDim, nv = a.ValueHeads, cols = a.Columns;
        int blocks = (dv + cols - 1) / cols;
        int job = Grid.IdxX;
        int s = job / (nv * blocks), rest = job - s * nv * blocks, h = rest / blocks, col = (rest - h * blocks) * cols + Group.IdxX;
        var shared = SharedMemory.GetDynamic<float>();
        var st = shared.SubView(0, dk * cols);
        var ks = shared.SubView(dk * cols, dk);
        var qs = shared.SubView(dk * cols + dk, dk);
        int first = a.Batch.SeqStart[s], count = a.Batch.SeqStart[s + 1] - first, slot = a.Batch.StateSlot[s];
        bool valid = (uint)slot < (uint)a.StateSlots;
        bool own = col < dv && valid;
        bool reset = a.Batch.Reset[s] != 0;
        int kh = h / (nv / a.KeyHeads);
        long rb = StateColumn(slot, nv, h, dv, col, dk);
        int me = Group.IdxX;
        if (own)
            for (int r = 0; r < dk; r++) st[r * cols + me] = reset ? 0f : a.RecurrentState[rb + r];
        float decayScale = -XMath.Exp(a.ALog[h]);
        for (int i = 0; i < count; i++)
        {
            long t = first + i;
            Group.Barrier();
            for (int e = me; e < dk; e += Group.DimX)
            {
                qs[e] = a.Conv[t * a.Channels + kh * dk + e];
                ks[e] = a.Conv[t * a.Channels + (a.KeyHeads + kh) * dk + e];
            }
            Group.Barrier();
            if (!own) continue;
            float decay = XMath.Exp(decayScale * Reduce.Softplus(a.A[t * nv + h] + a.DtBias[h]));
            float beta = Reduce.Sigmoid(a.B[t * nv + h]);
            float mem = 0f;
            for (int r = 0; r < dk; r++)
            {
                float v = st[r * cols + me] * decay;
                st[r * cols + me] = v;
                mem += v * ks[r];
            }
            float delta = (a.Conv[t * a.Channels + 2 * a.KeyHeads * dk + h * dv + col] - mem) * beta;
            float o = 0f;
            for (int r = 0; r < dk; r++)
            {
                float v = st[r * cols + me] + ks[r] * delta;
                st[r * cols + me] = v;
                o += v * qs[r];
            }
            a.Output[(t * nv + h) * dv + col] = o;
        }
        if (own)
            for (int r = 0; r < dk; r++) a.RecurrentState[rb + r] = st[r * cols + me];
        else if (!valid && Group.IdxX == 0) a.Status[Status.BadStateSlot] = 1;
    }
}

/// <summary>One token's inputs to a lane of <see cref="DeltaNetKernels.DeltaRuleWarp"/>: its rows of q and k and the column's v.</summary>
public struct DeltaToken
{
    public float Q0, Q1, Q2, Q3, K0, K1, K2, K3, V;

    public static DeltaToken Load(DeltaNetArgs a, long t, int lane, int qOff, int kOff, int vOff)
    {
        int dk = a.KeyDim, ws = Warp.WarpSize;
        long row = t * a.Channels;
        int r0 = lane, r1 = lane + ws, r2 = lane + 2 * ws, r3 = lane + 3 * ws;
        return new DeltaToken
        {
            Q0 = r0 < dk ? a.Conv[row + qOff + r0] : 0f, K0 = r0 < dk ? a.Conv[row + kOff + r0] : 0f,
            Q1 = r1 < dk ? a.Conv[row + qOff + r1] : 0f, K1 = r1 < dk ? a.Conv[row + kOff + r1] : 0f,
            Q2 = r2 < dk ? a.Conv[row + qOff + r2] : 0f, K2 = r2 < dk ? a.Conv[row + kOff + r2] : 0f,
            Q3 = r3 < dk ? a.Conv[row + qOff + r3] : 0f, K3 = r3 < dk ? a.Conv[row + kOff + r3] : 0f,
            V = a.Conv[row + vOff],
        };
    }
}

/// <summary>One value column of a head in <see cref="DeltaNetKernels.DeltaRuleHeadNorm"/>: its dk state rows, four per lane, and its v.</summary>
public struct HeadColumn
{
    public float S0, S1, S2, S3, V;
    public long Base;
    public int Column;

    /// <summary>Column <paramref name="col"/>'s state (zeros on reset; nothing past dv) and v from the conv output at <paramref name="vRow"/>.</summary>
    public static HeadColumn Load(DeltaNetArgs a, int slot, int h, int col, int lane, bool reset, long vRow)
    {
        int dk = a.KeyDim, ws = Warp.WarpSize;
        var c = new HeadColumn { Column = col, Base = (((long)slot * a.ValueHeads + h) * a.ValueDim + col) * dk };
        if (col >= a.ValueDim) return c;
        if (!reset)
        {
            if (lane < dk) c.S0 = a.RecurrentState[c.Base + lane];
            if (lane + ws < dk) c.S1 = a.RecurrentState[c.Base + lane + ws];
            if (lane + 2 * ws < dk) c.S2 = a.RecurrentState[c.Base + lane + 2 * ws];
            if (lane + 3 * ws < dk) c.S3 = a.RecurrentState[c.Base + lane + 3 * ws];
        }
        c.V = a.Conv[vRow + col];
        return c;
    }

    /// <summary>One token of the delta rule on this column (as <see cref="DeltaNetKernels.DeltaRuleWarp"/>): state stored, output into <paramref name="outs"/>.</summary>
    public void Update(DeltaNetArgs a, DeltaToken x, float decay, float beta, float ik, float iq, float kq, int lane, ArrayView<float> outs)
    {
        int dk = a.KeyDim, ws = Warp.WarpSize;
        float sk = S0 * x.K0 + S1 * x.K1 + S2 * x.K2 + S3 * x.K3;
        float sq = S0 * x.Q0 + S1 * x.Q1 + S2 * x.Q2 + S3 * x.Q3;
        for (int o = ws / 2; o > 0; o >>= 1)
        {
            sk += Warp.ShuffleXor(sk, o);
            sq += Warp.ShuffleXor(sq, o);
        }
        if (Column >= a.ValueDim) return;
        float delta = (V - decay * sk * ik) * beta;
        float kDelta = ik * delta;
        if (lane < dk) a.RecurrentState[Base + lane] = decay * S0 + x.K0 * kDelta;
        if (lane + ws < dk) a.RecurrentState[Base + lane + ws] = decay * S1 + x.K1 * kDelta;
        if (lane + 2 * ws < dk) a.RecurrentState[Base + lane + 2 * ws] = decay * S2 + x.K2 * kDelta;
        if (lane + 3 * ws < dk) a.RecurrentState[Base + lane + 3 * ws] = decay * S3 + x.K3 * kDelta;
        if (lane == 0) outs[Column] = decay * sq * iq + delta * kq * ik * iq;
    }
}
