using System.Numerics.Tensors;

namespace Fse.Kernels.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void GatedDeltaNet(GatedDeltaNetArgs a, SequenceBatch batch)
    {
        int tokens = batch.TokenCount, channels = a.Channels, kernel = a.ConvKernel;
        int nk = a.KeyHeads, dk = a.KeyDim, nv = a.ValueHeads, dv = a.ValueDim;
        a.Validate(batch);

        var conv = new float[(long)tokens * channels];
        var g = new float[tokens * nv];
        var beta = new float[tokens * nv];
        var core = new float[(long)tokens * nv * dv];
        var aLog = C(a.ALog).F32;
        var dtBias = C(a.DtBias).F32;
        var bs = C(a.B).F32;
        var As = C(a.A).F32;
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < nv; h++)
            {
                beta[t * nv + h] = Numerics.Sigmoid(bs[t * nv + h]);
                g[t * nv + h] = -MathF.Exp(aLog[h]) * Numerics.Softplus(As[t * nv + h] + dtBias[h]);
            }

        for (int s = 0; s < batch.SequenceCount; s++)
        {
            int first = batch.SeqStart[s], count = batch.SeqStart[s + 1] - first, slot = batch.StateSlot[s];
            if ((uint)slot >= (uint)a.ConvState.Dim(0) || (uint)slot >= (uint)a.RecurrentState.Dim(0))
                throw new ArgumentOutOfRangeException(nameof(batch), $"State slot {slot} outside the state pool.");
            CausalConv(a, first, count, slot, batch.ResetState[s], conv);
            NormalizeQueryKey(conv, first, count, channels, nk, dk);
            var recurrent = (float*)C(a.RecurrentState).Data + (long)slot * nv * dk * dv;
            if (batch.ResetState[s]) new Span<float>(recurrent, nv * dk * dv).Clear();
            bool chunked = a.Form == DeltaRuleForm.Chunked || (a.Form == DeltaRuleForm.Auto && count > 1);
            var job = new DeltaRuleJob(conv, g, beta, core, recurrent, first, count, channels, nk, dk, nv, dv, a.ChunkSize);
            if (nv > 1 && (long)count * dk * dv > 1 << 14) Parallel.For(0, nv, chunked ? job.Chunked : job.Recurrent);
            else for (int h = 0; h < nv; h++) { if (chunked) job.Chunked(h); else job.Recurrent(h); }
        }

        var z = C(a.Z).F32;
        var w = C(a.NormWeight).F32;
        var o = C(a.Output).F32;
        for (long r = 0; r < (long)tokens * nv; r++)
        {
            var x = core.AsSpan((int)(r * dv), dv);
            float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(x) / dv + a.NormEps);
            var zr = z.Slice((int)(r * dv), dv);
            var dst = o.Slice((int)(r * dv), dv);
            for (int i = 0; i < dv; i++) dst[i] = x[i] * inv * w[i] * Numerics.Silu(zr[i]);
        }
    }

    /// <summary>Depthwise causal conv with SiLU over one sequence's tokens, continuing from (and updating) its conv state.</summary>
    private static void CausalConv(GatedDeltaNetArgs a, int first, int count, int slot, bool reset, float[] conv)
    {
        int channels = a.Channels, kernel = a.ConvKernel, hist = kernel - 1;
        var x = C(a.MixedQkv).F32;
        var w = C(a.ConvWeight).F32;
        var state = C(a.ConvState).F32.Slice(slot * channels * hist, channels * hist);
        if (reset) state.Clear();
        Span<float> window = stackalloc float[kernel];
        for (int c = 0; c < channels; c++)
        {
            var st = state.Slice(c * hist, hist);
            var wc = w.Slice(c * kernel, kernel);
            st.CopyTo(window);
            for (int i = 0; i < count; i++)
            {
                int t = first + i;
                window[hist] = x[t * channels + c];
                conv[(long)t * channels + c] = Numerics.Silu(TensorPrimitives.Dot(wc, window));
                window[1..].CopyTo(window);
            }
            window[..hist].CopyTo(st);
        }
    }

    /// <summary>L2-normalises each q and k head (eps 1e-6 inside the root, as FLA and HF) and scales q by 1/sqrt(dk).</summary>
    private static void NormalizeQueryKey(float[] conv, int first, int count, int channels, int nk, int dk)
    {
        float qScale = 1f / MathF.Sqrt(dk);
        for (int t = first; t < first + count; t++)
            for (int j = 0; j < 2 * nk; j++)
            {
                var head = conv.AsSpan(t * channels + j * dk, dk);
                float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(head) + 1e-6f);
                TensorPrimitives.Multiply(head, j < nk ? inv * qScale : inv, head);
            }
    }

    /// <summary>The gated delta rule for one sequence, one value head per call, in its recurrent or chunked form.</summary>
    private sealed class DeltaRuleJob(float[] conv, float[] g, float[] beta, float[] core, float* state,
        int first, int count, int channels, int nk, int dk, int nv, int dv, int chunkSize)
    {
        private ReadOnlySpan<float> Q(int t, int h) => conv.AsSpan(t * channels + h / (nv / nk) * dk, dk);
        private ReadOnlySpan<float> K(int t, int h) => conv.AsSpan(t * channels + (nk + h / (nv / nk)) * dk, dk);
        private ReadOnlySpan<float> V(int t, int h) => conv.AsSpan(t * channels + 2 * nk * dk + h * dv, dv);
        private Span<float> S(int h) => new(state + (long)h * dk * dv, dk * dv);
        private Span<float> Out(int t, int h) => core.AsSpan((t * nv + h) * dv, dv);

        public void Recurrent(int h)
        {
            var st = S(h);
            Span<float> mem = stackalloc float[dv];
            for (int i = 0; i < count; i++)
            {
                int t = first + i;
                TensorPrimitives.Multiply(st, MathF.Exp(g[t * nv + h]), st);
                var k = K(t, h);
                mem.Clear();
                for (int r = 0; r < dk; r++) TensorPrimitives.MultiplyAdd(st.Slice(r * dv, dv), k[r], mem, mem);
                var v = V(t, h);
                float b = beta[t * nv + h];
                for (int c = 0; c < dv; c++) mem[c] = (v[c] - mem[c]) * b;
                for (int r = 0; r < dk; r++) TensorPrimitives.MultiplyAdd(mem, k[r], st.Slice(r * dv, dv), st.Slice(r * dv, dv));
                var q = Q(t, h);
                var o = Out(t, h);
                o.Clear();
                for (int r = 0; r < dk; r++) TensorPrimitives.MultiplyAdd(st.Slice(r * dv, dv), q[r], o, o);
            }
        }

        /// <summary>HF's torch_chunk_gated_delta_rule (the WY form) over chunks of chunkSize tokens.</summary>
        public void Chunked(int h)
        {
            var st = S(h);
            int cs = chunkSize;
            var gc = new float[cs];
            var attn = new float[cs * cs];
            var valueW = new float[cs * dv];
            var kCum = new float[cs * dk];
            var vNew = new float[cs * dv];
            var tmp = new float[cs];
            for (int c0 = 0; c0 < count; c0 += cs)
            {
                int n = Math.Min(cs, count - c0), t0 = first + c0;
                float acc = 0;
                for (int i = 0; i < n; i++) gc[i] = acc += g[(t0 + i) * nv + h];

                // attn = -(k_beta · kᵀ ⊙ decay) strictly below the diagonal, then the triangular recurrence, then + I.
                Array.Clear(attn);
                for (int i = 0; i < n; i++)
                {
                    float bi = beta[(t0 + i) * nv + h];
                    for (int j = 0; j < i; j++)
                        attn[i * cs + j] = -bi * TensorPrimitives.Dot(K(t0 + i, h), K(t0 + j, h)) * MathF.Exp(gc[i] - gc[j]);
                }
                for (int i = 1; i < n; i++)
                {
                    for (int c = 0; c < i; c++) tmp[c] = attn[i * cs + c];
                    for (int c = 0; c < i; c++)
                    {
                        float sum = tmp[c];
                        for (int j = 0; j < i; j++) sum += tmp[j] * attn[j * cs + c];
                        attn[i * cs + c] = sum;
                    }
                }
                for (int i = 0; i < n; i++) attn[i * cs + i] += 1f;

                // value = attn · v_beta ; k_cumdecay = attn · (k_beta ⊙ exp(gc))
                for (int i = 0; i < n; i++)
                {
                    var vw = valueW.AsSpan(i * dv, dv);
                    var kc = kCum.AsSpan(i * dk, dk);
                    vw.Clear();
                    kc.Clear();
                    for (int j = 0; j <= i; j++)
                    {
                        float aij = attn[i * cs + j], bj = beta[(t0 + j) * nv + h];
                        if (aij == 0f) continue;
                        TensorPrimitives.MultiplyAdd(V(t0 + j, h), aij * bj, vw, vw);
                        TensorPrimitives.MultiplyAdd(K(t0 + j, h), aij * bj * MathF.Exp(gc[j]), kc, kc);
                    }
                }

                // v_new = value − k_cumdecay · S ; out = (q ⊙ exp(gc)) · S + (q·kᵀ ⊙ decay, lower incl. diagonal) · v_new
                for (int i = 0; i < n; i++)
                {
                    var vn = vNew.AsSpan(i * dv, dv);
                    valueW.AsSpan(i * dv, dv).CopyTo(vn);
                    var kc = kCum.AsSpan(i * dk, dk);
                    for (int r = 0; r < dk; r++) TensorPrimitives.MultiplyAdd(st.Slice(r * dv, dv), -kc[r], vn, vn);
                }
                for (int i = 0; i < n; i++)
                {
                    var o = Out(t0 + i, h);
                    o.Clear();
                    var q = Q(t0 + i, h);
                    float eg = MathF.Exp(gc[i]);
                    for (int r = 0; r < dk; r++) TensorPrimitives.MultiplyAdd(st.Slice(r * dv, dv), q[r] * eg, o, o);
                    for (int j = 0; j <= i; j++)
                    {
                        float w = TensorPrimitives.Dot(q, K(t0 + j, h)) * MathF.Exp(gc[i] - gc[j]);
                        TensorPrimitives.MultiplyAdd(vNew.AsSpan(j * dv, dv), w, o, o);
                    }
                }

                // S = S·exp(gc_last) + Σ_j (k_j·exp(gc_last − gc_j)) ⊗ v_new_j
                float last = gc[n - 1];
                TensorPrimitives.Multiply(st, MathF.Exp(last), st);
                for (int j = 0; j < n; j++)
                {
                    var k = K(t0 + j, h);
                    float d = MathF.Exp(last - gc[j]);
                    var vn = vNew.AsSpan(j * dv, dv);
                    for (int r = 0; r < dk; r++) TensorPrimitives.MultiplyAdd(vn, k[r] * d, st.Slice(r * dv, dv), st.Slice(r * dv, dv));
                }
            }
        }
    }
}
