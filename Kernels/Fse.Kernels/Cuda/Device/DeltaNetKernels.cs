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
    public ArrayView<int> Status;
}

public static class DeltaNetKernels
{
    /// <summary>
    /// Depthwise causal conv + SiLU, one thread per (sequence, channel) walking the sequence's tokens; the window's
    /// first K-1 inputs come from the conv state (zeros on reset), which is updated to the last K-1 inputs.
    /// </summary>
    public static void CausalConv(DeltaNetArgs a)
    {
        int n = a.Batch.Sequences * a.Channels, hist = a.Kernel - 1;
        for (int job = Grid.GlobalIndex.X; job < n; job += Grid.DimX * Group.DimX)
        {
            int s = job / a.Channels, c = job - s * a.Channels;
            int first = a.Batch.SeqStart[s], count = a.Batch.SeqStart[s + 1] - first, slot = a.Batch.StateSlot[s];
            if ((uint)slot >= (uint)a.StateSlots)
            {
                a.Status[Status.BadStateSlot] = 1;
                continue;
            }
            bool reset = a.Batch.Reset[s] != 0;
            long sb = ((long)slot * a.Channels + c) * hist;
            for (int i = 0; i < count; i++)
            {
                float acc = 0f;
                for (int j = 0; j < a.Kernel; j++)
                {
                    int src = i - hist + j;
                    float x = src >= 0 ? a.Mixed[(long)(first + src) * a.Channels + c] : reset ? 0f : a.ConvState[sb + hist + src];
                    acc += a.ConvWeight[c * a.Kernel + j] * x;
                }
                a.Conv[(long)(first + i) * a.Channels + c] = Reduce.Silu(acc);
            }
            // Ascending j reads state entries (count + j) above the ones already overwritten.
            for (int j = 0; j < hist; j++)
            {
                int src = count - hist + j;
                a.ConvState[sb + j] = src >= 0 ? a.Mixed[(long)(first + src) * a.Channels + c] : reset ? 0f : a.ConvState[sb + hist + src];
            }
        }
    }

    /// <summary>
    /// The gated delta rule, one group per (sequence, value head, block of Columns value columns): each thread owns one
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
        long rb = ((long)slot * nv + h) * dk * dv + col;
        int me = Group.IdxX;
        if (own)
            for (int r = 0; r < dk; r++) st[r * cols + me] = reset ? 0f : a.RecurrentState[rb + (long)r * dv];
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
            for (int r = 0; r < dk; r++) a.RecurrentState[rb + (long)r * dv] = st[r * cols + me];
        else if (!valid && Group.IdxX == 0) a.Status[Status.BadStateSlot] = 1;
    }
}
