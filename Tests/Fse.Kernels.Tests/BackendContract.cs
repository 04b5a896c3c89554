using System.Runtime.InteropServices;
using static Fse.Kernels.Tests.Reference;

namespace Fse.Kernels.Tests;

/// <summary>
/// What every backend must compute, checked against float64 references on fresh random inputs. A backend's test
/// class derives from this and says how to make the backend.
/// </summary>
public abstract partial class BackendContract
{
    protected abstract IBackend CreateBackend();

    private static float[] Download(IBackend b, Tensor t)
    {
        var a = new float[t.ElementCount];
        b.Download(t, a);
        return a;
    }

    private static unsafe HostTensor Host(float[] values, DType dtype, int[] shape, List<nint> keep)
    {
        var p = (nint)NativeMemory.Alloc((nuint)(values.Length * dtype.Size()));
        keep.Add(p);
        for (int i = 0; i < values.Length; i++)
        {
            if (dtype == DType.F32) ((float*)p)[i] = values[i];
            else if (dtype == DType.BF16) ((ushort*)p)[i] = Bf16.FromF32(values[i]);
            else ((Half*)p)[i] = (Half)values[i];
        }
        return new HostTensor(dtype, shape, (void*)p);
    }

    private static float Stored(float v, DType dtype) => dtype switch
    {
        DType.BF16 => Bf16.ToF32(Bf16.FromF32(v)),
        DType.F16 => (float)(Half)v,
        _ => v,
    };

    /// <summary>
    /// x [t, k] · w[first … first + count)ᵀ (+ those entries of bias) in float64, with w rounded to <paramref name="dtype"/>
    /// as the backend stores it: [t, count].
    /// </summary>
    private static double[] MatMulReference(float[] x, float[] w, float[]? bias, int t, int k, DType dtype, int first, int count)
    {
        var want = new double[t * count];
        for (int i = 0; i < t; i++)
            for (int j = 0; j < count; j++)
            {
                int row = first + j;
                double s = bias is null ? 0 : bias[row];
                for (int q = 0; q < k; q++) s += x[i * k + q] * (double)Stored(w[row * k + q], dtype);
                want[i * count + j] = s;
            }
        return want;
    }

    /// <summary>The inputs of a MatMul case, as drawn and as uploaded.</summary>
    private sealed record MatMulInputs(float[] X, float[] W, float[] Bias, Tensor Xt, Tensor Wt, Tensor Bt);

    /// <summary>
    /// x [t, k], w [n, k] and bias [n] drawn from <paramref name="rng"/> in that order, uploaded to <paramref name="b"/>
    /// (w stored as <paramref name="dtype"/>), and <paramref name="check"/> run on them.
    /// </summary>
    private static void WithMatMulInputs(IBackend b, Random rng, DType dtype, int t, int k, int n, Action<MatMulInputs> check)
    {
        var x = Random(rng, t * k);
        var w = Random(rng, n * k);
        var bias = Random(rng, n);
        var keep = new List<nint>();
        try
        {
            using var xt = b.Upload(x, t, k);
            using var wt = b.Upload(Host(w, dtype, [n, k], keep));
            using var bt = b.Upload(bias, n);
            check(new MatMulInputs(x, w, bias, xt, wt, bt));
        }
        finally { Free(keep); }
    }

    private static unsafe void Free(List<nint> keep)
    {
        foreach (var p in keep) NativeMemory.Free((void*)p);
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    public void MatMulWithBiasMatchesFloat64(DType dtype)
    {
        using var b = CreateBackend();
        var rng = new Random(1);
        int t = 5, k = 37, n = 41;
        WithMatMulInputs(b, rng, dtype, t, k, n, m =>
        {
            using var o = b.Allocate(DType.F32, t, n);
            b.MatMul(m.Xt, m.Wt, m.Bt, o);
            var got = Download(b, o);
            var want = MatMulReference(m.X, m.W, m.Bias, t, k, dtype, 0, n);
            Assert.True(MaxAbsDiff(got, want) < 1e-5, $"max diff {MaxAbsDiff(got, want)}");
        });
    }

    [Theory]
    [InlineData(3, 4099)]
    [InlineData(2, 4100)]
    [InlineData(1, 7)]
    [InlineData(2, 151936)]   // a Qwen vocabulary: on device backends in parts, then a pick among them
    [InlineData(1, 151936)]   // ... with the largest value in the row's last element
    public void ArgMaxIsTheHostScansChoice(int rows, int n)
    {
        using var b = CreateBackend();
        var rng = new Random(n);
        var x = Random(rng, rows * n, 4f);
        // Ties (the lower index wins), NaNs (never chosen, but a row starting with NaN gives 0) and -inf.
        if (n > 100) x[n - 3] = x[n / 2] = 50f;
        if (rows > 1) { x[n] = float.NaN; x[n + 5] = 99f; }
        if (rows > 2) { x[2 * n + 1] = float.NaN; x[2 * n + n - 1] = float.PositiveInfinity; }
        if (rows == 1) { x[0] = float.NegativeInfinity; x[3] = float.NaN; }
        if (rows == 1 && n > 100) x[n - 1] = 60f;
        using var xt = b.Upload(x, rows, n);
        using var o = b.Allocate(DType.F32, rows);
        b.ArgMax(xt, o);
        var want = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int i = 1; i < n; i++)
                if (x[r * n + i] > x[r * n + best]) best = i;
            want[r] = best;
        }
        Assert.Equal(want, Download(b, o));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RmsNormPlainAndZeroCentred(bool unitOffset)
    {
        using var b = CreateBackend();
        var rng = new Random(2);
        int rows = 6, d = 24;
        var x = Random(rng, rows * d, 3f);
        var w = Random(rng, d);
        using var xt = b.Upload(x, rows, d);
        using var wt = b.Upload(w, d);
        using var o = b.Allocate(DType.F32, rows, d);
        b.RmsNorm(xt, wt, o, 1e-6f, unitOffset);
        var want = new double[rows * d];
        for (int r = 0; r < rows; r++)
        {
            double ms = 0;
            for (int i = 0; i < d; i++) ms += (double)x[r * d + i] * x[r * d + i];
            double inv = 1 / Math.Sqrt(ms / d + 1e-6);
            for (int i = 0; i < d; i++) want[r * d + i] = x[r * d + i] * inv * (unitOffset ? 1 + w[i] : w[i]);
        }
        Assert.True(MaxAbsDiff(Download(b, o), want) < 1e-5);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AddRmsNormUpdatesTheResidualAndNormalisesIt(bool unitOffset)
    {
        using var b = CreateBackend();
        var rng = new Random(32);
        int rows = 3, d = 40;
        var r = Random(rng, rows * d, 2f);
        var delta = Random(rng, rows * d);
        var w = Random(rng, d);
        using var rt = b.Upload(r, rows, d);
        using var dt = b.Upload(delta, rows, d);
        using var wt = b.Upload(w, d);
        using var o = b.Empty(DType.F32, rows, d);
        b.AddRmsNorm(rt, dt, wt, o, 1e-6f, unitOffset);
        var sum = new double[rows * d];
        for (int i = 0; i < sum.Length; i++) sum[i] = (double)r[i] + delta[i];
        var want = new double[rows * d];
        for (int row = 0; row < rows; row++)
        {
            double ms = 0;
            for (int i = 0; i < d; i++) ms += sum[row * d + i] * sum[row * d + i];
            double inv = 1 / Math.Sqrt(ms / d + 1e-6);
            for (int i = 0; i < d; i++) want[row * d + i] = sum[row * d + i] * inv * (unitOffset ? 1 + w[i] : w[i]);
        }
        Assert.True(MaxAbsDiff(Download(b, rt), sum) < 1e-6);
        Assert.True(MaxAbsDiff(Download(b, o), want) < 1e-5);
    }

    /// <summary>
    /// An empty tensor has its shape and takes an op's whole output, also when its buffer is a reused one that held
    /// other values (on a device pool), and uploads queued one after another each land in their own tensor.
    /// </summary>
    [Fact]
    public void EmptyTensorsTakeAnOpsWholeOutputAndQueuedUploadsStayApart()
    {
        using var b = CreateBackend();
        var rng = new Random(31);
        var x = Random(rng, 6 * 10);
        var y = Random(rng, 6 * 10);
        using (var junk = b.Upload(Random(rng, 6 * 10), 6, 10)) b.Synchronize();
        using var e = b.Empty(DType.F32, 6, 10);
        Assert.Equal([6, 10], e.Shape);
        var uploads = Enumerable.Range(0, 40).Select(i => b.Upload(x.Select(v => v * i).ToArray(), 6, 10)).ToArray();
        using var yt = b.Upload(y, 6, 10);
        b.Add(uploads[37], yt, e);
        var got = Download(b, e);
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] * 37 + y[i], got[i], 1e-5);
        var ids = Enumerable.Range(0, 30).Select(i => b.Upload(new[] { i, i + 1 }, 2)).ToArray();
        var back = new int[2];
        b.Download(ids[29], back);
        Assert.Equal([29, 30], back);
        foreach (var t in uploads.Concat(ids)) t.Dispose();
    }

    [Fact]
    public void PartialRotaryRotatesTheFirstDimsByPosition()
    {
        using var b = CreateBackend();
        var rng = new Random(3);
        int heads = 3, hd = 16, rot = 8;
        var batch = new SequenceBatch([0, 2, 5], [7, 8, 0, 1, 2], [0, 1, 2, 3], 2, 8, [0, 1], [false, true]);
        var x = Random(rng, 5 * heads * hd);
        using var xt = b.Upload(x, 5, heads, hd);
        b.Rope(xt, batch, rot, 10000f);
        var got = Download(b, xt);
        for (int t = 0; t < 5; t++)
            for (int h = 0; h < heads; h++)
            {
                int o = (t * heads + h) * hd;
                for (int i = 0; i < rot / 2; i++)
                {
                    double angle = (float)(1.0 / Math.Pow(10000, 2.0 * i / rot)) * (double)batch.Positions[t];
                    double a = x[o + i], c = x[o + i + rot / 2];
                    Assert.Equal(a * Math.Cos(angle) - c * Math.Sin(angle), got[o + i], 1e-4);
                    Assert.Equal(c * Math.Cos(angle) + a * Math.Sin(angle), got[o + i + rot / 2], 1e-4);
                }
                for (int i = rot; i < hd; i++) Assert.Equal(x[o + i], got[o + i]);
            }
    }

    [Theory]
    [InlineData(true, false, 8)]    // both norms, partial rotary
    [InlineData(true, true, 16)]    // (1 + w) weights, rotary over the whole head
    [InlineData(false, false, 6)]   // no norms: the two rotations only
    [InlineData(true, false, 0)]    // norms only
    public void NormRopeQueryKeyEqualsTheNormsThenTheRotations(bool norms, bool unitOffset, int rot)
    {
        using var b = CreateBackend();
        var rng = new Random(19 + rot);
        int t = 5, heads = 3, kvHeads = 2, hd = 16;
        var batch = new SequenceBatch([0, 2, 5], [7, 8, 0, 1, 2], [0, 1, 2, 3], 2, 8, [0, 1], [false, true]);
        var q = Random(rng, t * heads * hd, 3f);
        var k = Random(rng, t * kvHeads * hd, 3f);
        using var qn = b.Upload(Random(rng, hd), hd);
        using var kn = b.Upload(Random(rng, hd), hd);
        using var q1 = b.Upload(q, t, heads, hd);
        using var k1 = b.Upload(k, t, kvHeads, hd);
        using var q2 = b.Upload(q, t, heads, hd);
        using var k2 = b.Upload(k, t, kvHeads, hd);
        b.NormRopeQueryKey(q1, k1, norms ? qn : null, norms ? kn : null, 1e-6f, unitOffset, batch, rot, 10000f);
        if (norms)
        {
            b.RmsNorm(q2, qn, q2, 1e-6f, unitOffset);
            b.RmsNorm(k2, kn, k2, 1e-6f, unitOffset);
        }
        b.Rope(q2, batch, rot, 10000f);
        b.Rope(k2, batch, rot, 10000f);
        AssertClose(Download(b, q1), [.. Download(b, q2).Select(v => (double)v)], 1e-6);
        AssertClose(Download(b, k1), [.. Download(b, k2).Select(v => (double)v)], 1e-6);
    }

    [Fact]
    public void PagedAttentionEqualsDenseCausalAttentionAcrossScatteredBlocks() =>
        // Two sequences of 9 and 6 tokens; their blocks are interleaved in the cache; each is fed in two steps.
        CheckPagedAttention(heads: 4, kvHeads: 2, hd: 8, bs: 4, maxBlocks: 4, lengths: [9, 6], table: [5, 1, 7, 3, 0, 6, 2, 4], split: [5, 2]);

    [Theory]
    [InlineData(16, 2, 16)]   // eight query heads per KV head (Qwen3-Next's grouping), one launch per KV head on device backends
    [InlineData(6, 2, 12)]    // three per KV head: the grouped kernel pads the rest
    public void PagedAttentionDecodesOverManyPartitionsOfGroupedHeads(int heads, int kvHeads, int hd) =>
        // Prompts of 70 and 37 tokens, then one decode step each: contexts of 71 and 38 keys, more than one partition.
        CheckPagedAttention(heads, kvHeads, hd, bs: 8, maxBlocks: 9, lengths: [71, 38], table: [.. Enumerable.Range(0, 18).Select(i => (i * 7) % 18)], split: [70, 37]);

    private void CheckPagedAttention(int heads, int kvHeads, int hd, int bs, int maxBlocks, int[] lengths, int[] table, int[] split)
    {
        using var b = CreateBackend();
        var rng = new Random(4 + heads + hd);
        var q = lengths.Select(n => Random(rng, n * heads * hd)).ToArray();
        var k = lengths.Select(n => Random(rng, n * kvHeads * hd)).ToArray();
        var v = lengths.Select(n => Random(rng, n * kvHeads * hd)).ToArray();
        using var kc = b.Allocate(DType.F32, table.Length * bs, kvHeads, hd);
        using var vc = b.Allocate(DType.F32, table.Length * bs, kvHeads, hd);
        var got = lengths.Select(n => new float[n * heads * hd]).ToArray();
        for (int step = 0; step < 2; step++)
        {
            var starts = new List<int> { 0 };
            var positions = new List<int>();
            var qs = new List<float>();
            var ks = new List<float>();
            var vs = new List<float>();
            for (int s = 0; s < 2; s++)
            {
                int from = step == 0 ? 0 : split[s], to = step == 0 ? split[s] : lengths[s];
                for (int p = from; p < to; p++)
                {
                    positions.Add(p);
                    qs.AddRange(q[s].AsSpan(p * heads * hd, heads * hd).ToArray());
                    ks.AddRange(k[s].AsSpan(p * kvHeads * hd, kvHeads * hd).ToArray());
                    vs.AddRange(v[s].AsSpan(p * kvHeads * hd, kvHeads * hd).ToArray());
                }
                starts.Add(positions.Count);
            }
            var batch = new SequenceBatch([.. starts], [.. positions], table, maxBlocks, bs, [0, 1], [step == 0, step == 0]);
            int t = positions.Count;
            using var qt = b.Upload(qs.ToArray(), t, heads, hd);
            using var kt = b.Upload(ks.ToArray(), t, kvHeads, hd);
            using var vt = b.Upload(vs.ToArray(), t, kvHeads, hd);
            using var o = b.Allocate(DType.F32, t, heads, hd);
            b.PagedAttention(qt, kt, vt, kc, vc, batch, 0.3f, o);
            var os = Download(b, o);
            for (int s = 0; s < 2; s++)
                for (int i = starts[s]; i < starts[s + 1]; i++)
                    os.AsSpan(i * heads * hd, heads * hd).CopyTo(got[s].AsSpan(positions[i] * heads * hd));
        }
        for (int s = 0; s < 2; s++)
        {
            var want = CausalAttention(q[s], k[s], v[s], lengths[s], heads, kvHeads, hd, 0.3f);
            for (int i = 0; i < want.Length; i++) Assert.Equal(want[i], got[s][i], 1e-5);
        }
    }

    [Theory]
    [InlineData(DeltaRuleForm.Recurrent)]
    [InlineData(DeltaRuleForm.Chunked)]
    [InlineData(DeltaRuleForm.Auto)]
    public void GatedDeltaNetMatchesTheRecurrentReferenceAcrossSteps(DeltaRuleForm form)
    {
        using var b = CreateBackend();
        var rng = new Random(5);
        // A long first step (several 8-token chunks), then the rest.
        CheckGatedDeltaNet(b, rng, form, nk: 2, dk: 8, nv: 4, dv: 6, kernel: 4, lengths: [23, 11], split: [17, 1], slots: [2, 0], stateSlots: 3, chunk: 8);
    }

    /// <summary>
    /// Feeds each sequence's tokens in two steps (split[s] tokens, then the rest), or three when <paramref name="split2"/>
    /// is given (up to split2[s], then the rest), and compares every output with the float64 recurrence.
    /// </summary>
    private static void CheckGatedDeltaNet(IBackend b, Random rng, DeltaRuleForm form, int nk, int dk, int nv, int dv, int kernel,
        int[] lengths, int[] split, int[] slots, int stateSlots, int chunk, int[]? split2 = null)
    {
        int channels = 2 * nk * dk + nv * dv;
        var mixed = lengths.Select(n => Random(rng, n * channels, 2f)).ToArray();
        var z = lengths.Select(n => Random(rng, n * nv * dv, 2f)).ToArray();
        var bb = lengths.Select(n => Random(rng, n * nv, 2f)).ToArray();
        var aa = lengths.Select(n => Random(rng, n * nv, 2f)).ToArray();
        var conv = Random(rng, channels * kernel);
        var aLog = Enumerable.Range(0, nv).Select(_ => MathF.Log(1 + 15 * (float)rng.NextDouble())).ToArray();
        var dtBias = Random(rng, nv);
        var normW = Random(rng, dv);
        using var convW = b.Upload(conv, channels, kernel);
        using var aLogT = b.Upload(aLog, nv);
        using var dtT = b.Upload(dtBias, nv);
        using var nwT = b.Upload(normW, dv);
        using var convState = b.Allocate(DType.F32, stateSlots, channels, kernel - 1);
        using var recState = b.Allocate(DType.F32, stateSlots, nv, dk, dv);
        var got = lengths.Select(n => new float[n * nv * dv]).ToArray();
        var cuts = lengths.Select((n, s) => split2 is null ? new[] { 0, split[s], n } : new[] { 0, split[s], split2[s], n }).ToArray();
        for (int step = 0; step < cuts[0].Length - 1; step++)
        {
            var starts = new List<int> { 0 };
            var rows = new List<(int S, int P)>();
            for (int s = 0; s < lengths.Length; s++)
            {
                int from = cuts[s][step], to = cuts[s][step + 1];
                for (int p = from; p < to; p++) rows.Add((s, p));
                starts.Add(rows.Count);
            }
            float[] Gather(float[][] src, int width) => rows.SelectMany(r => src[r.S].AsSpan(r.P * width, width).ToArray()).ToArray();
            int t = rows.Count;
            using var mt = b.Upload(Gather(mixed, channels), t, channels);
            using var zt = b.Upload(Gather(z, nv * dv), t, nv * dv);
            using var bt = b.Upload(Gather(bb, nv), t, nv);
            using var at = b.Upload(Gather(aa, nv), t, nv);
            using var o = b.Allocate(DType.F32, t, nv * dv);
            var batch = new SequenceBatch([.. starts], [.. rows.Select(r => r.P)], [.. Enumerable.Range(0, lengths.Length)], 1, 64, slots, [.. lengths.Select(_ => step == 0)]);
            b.GatedDeltaNet(new GatedDeltaNetArgs
            {
                KeyHeads = nk, KeyDim = dk, ValueHeads = nv, ValueDim = dv, ConvKernel = kernel, NormEps = 1e-6f,
                MixedQkv = mt, Z = zt, B = bt, A = at, ConvWeight = convW, ALog = aLogT, DtBias = dtT, NormWeight = nwT,
                ConvState = convState, RecurrentState = recState, Output = o, Form = form, ChunkSize = chunk,
            }, batch);
            var os = Download(b, o);
            for (int i = 0; i < t; i++) os.AsSpan(i * nv * dv, nv * dv).CopyTo(got[rows[i].S].AsSpan(rows[i].P * nv * dv));
        }

        for (int s = 0; s < lengths.Length; s++)
        {
            int n = lengths[s];
            // conv + silu
            var c = new double[n][];
            for (int p = 0; p < n; p++)
            {
                c[p] = new double[channels];
                for (int ch = 0; ch < channels; ch++)
                {
                    double acc = 0;
                    for (int j = 0; j < kernel; j++)
                    {
                        int src = p - (kernel - 1) + j;
                        if (src >= 0) acc += conv[ch * kernel + j] * (double)mixed[s][src * channels + ch];
                    }
                    c[p][ch] = Silu(acc);
                }
            }
            double[] L2(double[] row, int off, int len, double scale)
            {
                double ss = 0;
                for (int i = 0; i < len; i++) ss += row[off + i] * row[off + i];
                double inv = 1 / Math.Sqrt(ss + 1e-6);
                return Enumerable.Range(0, len).Select(i => row[off + i] * inv * scale).ToArray();
            }
            for (int h = 0; h < nv; h++)
            {
                int kh = h / (nv / nk);
                var qh = c.Select(r => L2(r, kh * dk, dk, 1 / Math.Sqrt(dk))).ToArray();
                var kk = c.Select(r => L2(r, (nk + kh) * dk, dk, 1)).ToArray();
                var vv = c.Select(r => r.AsSpan(2 * nk * dk + h * dv, dv).ToArray()).ToArray();
                var g = Enumerable.Range(0, n).Select(p => -Math.Exp(aLog[h]) * Math.Log(1 + Math.Exp(aa[s][p * nv + h] + (double)dtBias[h]))).ToArray();
                var beta = Enumerable.Range(0, n).Select(p => Sigmoid(bb[s][p * nv + h])).ToArray();
                var outs = DeltaRule(qh, kk, vv, g, beta, new double[dk, dv]);
                for (int p = 0; p < n; p++)
                {
                    double ms = outs[p].Sum(x => x * x) / dv;
                    double inv = 1 / Math.Sqrt(ms + 1e-6);
                    for (int d = 0; d < dv; d++)
                    {
                        double want = outs[p][d] * inv * normW[d] * Silu(z[s][(p * nv + h) * dv + d]);
                        Assert.True(Math.Abs(want - got[s][(p * nv + h) * dv + d]) < 2e-4 * (1 + Math.Abs(want)),
                            $"seq {s} pos {p} head {h} dim {d}: want {want}, got {got[s][(p * nv + h) * dv + d]}");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    [InlineData(false, 3)]
    public void SoftmaxRoutingWritesTopKThenSharedSlots(bool renormalize, int shared)
    {
        using var b = CreateBackend();
        var rng = new Random(6);
        int t = 9, e = 12, k = 4;
        var logits = Random(rng, t * (e + shared), 4f);
        logits[0] = logits[1];   // a tie in token 0: the lower index must win
        CheckSoftmaxRouting(b, logits, t, e, k, shared, renormalize);
    }

    /// <summary>
    /// Routes <paramref name="logits"/> [t, e + shared] with <see cref="IBackend.RouteSoftmax"/> and checks every token
    /// against the float64 rule: the top-k of the softmax over the first e columns (ties: the lower index), their
    /// weights (renormalised when asked), then the shared slots with their sigmoid gates. Returns the ids.
    /// </summary>
    private static int[] CheckSoftmaxRouting(IBackend b, float[] logits, int t, int e, int k, int shared, bool renormalize)
    {
        using var lt = b.Upload(logits, t, e + shared);
        using var ids = b.Allocate(DType.I32, t, k + shared);
        using var w = b.Allocate(DType.F32, t, k + shared);
        b.RouteSoftmax(lt, e, k, renormalize, shared, ids, w);
        var gotIds = new int[t * (k + shared)];
        b.Download(ids, gotIds);
        var gotW = Download(b, w);
        for (int i = 0; i < t; i++)
        {
            var p = Softmax(logits.AsSpan(i * (e + shared), e).ToArray().Select(x => (double)x).ToArray());
            var top = TopK(p, k);
            double sum = top.Sum(j => p[j]);
            for (int j = 0; j < k; j++)
            {
                Assert.Equal(top[j], gotIds[i * (k + shared) + j]);
                Assert.Equal(renormalize ? p[top[j]] / sum : p[top[j]], gotW[i * (k + shared) + j], 1e-5);
            }
            for (int s = 0; s < shared; s++)
            {
                Assert.Equal(e + s, gotIds[i * (k + shared) + k + s]);
                Assert.Equal(Sigmoid(logits[i * (e + shared) + e + s]), gotW[i * (k + shared) + k + s], 1e-5);
            }
        }
        return gotIds;
    }

    [Theory]
    [InlineData(4, 2, true, 2.5f, 0)]
    [InlineData(4, 2, false, 1f, 2)]
    [InlineData(1, 1, true, 1f, 1)]
    public void GroupedSigmoidRoutingMatchesTheGlmRule(int groups, int keepGroups, bool renormalize, float scale, int shared)
    {
        using var b = CreateBackend();
        var rng = new Random(7);
        int t = 11, e = 16, k = 3;
        var logits = Random(rng, t * e, 3f);
        var bias = Random(rng, e, 0.5f);
        using var lt = b.Upload(logits, t, e);
        using var bt = b.Upload(bias, e);
        using var ids = b.Allocate(DType.I32, t, k + shared);
        using var w = b.Allocate(DType.F32, t, k + shared);
        b.RouteSigmoidGrouped(lt, bt, k, groups, keepGroups, renormalize, scale, shared, ids, w);
        var gotIds = new int[t * (k + shared)];
        b.Download(ids, gotIds);
        var gotW = Download(b, w);
        int per = e / groups;
        for (int i = 0; i < t; i++)
        {
            var scores = Enumerable.Range(0, e).Select(j => Sigmoid(logits[i * e + j])).ToArray();
            var choice = Enumerable.Range(0, e).Select(j => scores[j] + bias[j]).ToArray();
            var groupScore = Enumerable.Range(0, groups).Select(g => choice.Skip(g * per).Take(per).OrderDescending().Take(Math.Min(2, per)).Sum()).ToArray();
            var kept = TopK(groupScore, keepGroups);
            var masked = Enumerable.Range(0, e).Select(j => kept.Contains(j / per) ? choice[j] : double.NegativeInfinity).ToArray();
            var top = TopK(masked, k);
            double sum = top.Sum(j => scores[j]) + 1e-20;
            for (int j = 0; j < k; j++)
            {
                Assert.Equal(top[j], gotIds[i * (k + shared) + j]);
                double want = (renormalize ? scores[top[j]] / sum : scores[top[j]]) * scale;
                Assert.Equal(want, gotW[i * (k + shared) + j], 1e-5);
            }
            for (int s = 0; s < shared; s++)
            {
                Assert.Equal(e + s, gotIds[i * (k + shared) + k + s]);
                Assert.Equal(1f, gotW[i * (k + shared) + k + s]);
            }
        }
    }

    [Fact]
    public void GroupedRoutingNeverPicksAnExpertOfADroppedGroup()
    {
        // All biased choices negative: masking dropped groups with 0.0 (older HF) would pick from them; 5.x masks with -inf.
        using var b = CreateBackend();
        int e = 8, k = 2;
        var logits = Enumerable.Range(0, e).Select(i => (float)i).ToArray();
        var bias = Enumerable.Repeat(-3f, e).ToArray();
        using var lt = b.Upload(logits, 1, e);
        using var bt = b.Upload(bias, e);
        using var ids = b.Allocate(DType.I32, 1, k);
        using var w = b.Allocate(DType.F32, 1, k);
        b.RouteSigmoidGrouped(lt, bt, k, 4, 1, true, 1f, 0, ids, w);
        var got = new int[k];
        b.Download(ids, got);
        Assert.Equal([7, 6], got);
    }

    [Fact]
    public void GroupedExpertsComputeTheWeightedSumOfSwiGluExperts()
    {
        using var b = CreateBackend();
        var rng = new Random(8);
        int t = 7, h = 12, width = 10, slots = 5, per = 3;
        var keep = new List<nint>();
        try
        {
            var gates = Enumerable.Range(0, slots).Select(_ => Random(rng, width * h)).ToArray();
            var ups = Enumerable.Range(0, slots).Select(_ => Random(rng, width * h)).ToArray();
            var downs = Enumerable.Range(0, slots).Select(_ => Random(rng, h * width)).ToArray();
            var set = b.CreateExpertSet(Enumerable.Range(0, slots).Select(i => new ExpertSlot(
                Host(gates[i], DType.BF16, [width, h], keep), Host(ups[i], DType.BF16, [width, h], keep), Host(downs[i], DType.BF16, [h, width], keep))).ToArray());
            var x = Random(rng, t * h);
            var ids = Enumerable.Range(0, t * per).Select(i => (i * 7 + i / per) % slots).ToArray();
            var weights = Random(rng, t * per);
            using var xt = b.Upload(x, t, h);
            using var it = b.Upload(ids, t, per);
            using var wt = b.Upload(weights, t, per);
            using var o = b.Allocate(DType.F32, t, h);
            b.MoeExperts(xt, it, wt, set, o);
            var got = Download(b, o);
            var want = new double[t * h];
            for (int i = 0; i < t; i++)
                for (int j = 0; j < per; j++)
                {
                    int e = ids[i * per + j];
                    var act = new double[width];
                    for (int r = 0; r < width; r++)
                    {
                        double g = 0, u = 0;
                        for (int c = 0; c < h; c++)
                        {
                            g += Stored(gates[e][r * h + c], DType.BF16) * (double)x[i * h + c];
                            u += Stored(ups[e][r * h + c], DType.BF16) * (double)x[i * h + c];
                        }
                        act[r] = Silu(g) * u;
                    }
                    for (int c = 0; c < h; c++)
                    {
                        double y = 0;
                        for (int r = 0; r < width; r++) y += Stored(downs[e][c * width + r], DType.BF16) * act[r];
                        want[i * h + c] += weights[i * per + j] * y;
                    }
                }
            Assert.True(MaxAbsDiff(got, want) < 1e-5, $"max diff {MaxAbsDiff(got, want)}");
            set.Dispose();
        }
        finally { Free(keep); }
    }

    [Fact]
    public void ElementwiseOpsAndEmbedding()
    {
        using var b = CreateBackend();
        var rng = new Random(9);
        int t = 4, d = 6, v = 10;
        var table = Random(rng, v * d);
        var keep = new List<nint>();
        try
        {
            using var tt = b.Upload(Host(table, DType.BF16, [v, d], keep));
            using var idt = b.Upload([3, 9, 0, 3], t);
            using var e = b.Allocate(DType.F32, t, d);
            b.Embedding(idt, tt, e);
            var emb = Download(b, e);
            int[] idx = [3, 9, 0, 3];
            for (int i = 0; i < t; i++)
                for (int j = 0; j < d; j++) Assert.Equal(Stored(table[idx[i] * d + j], DType.BF16), emb[i * d + j]);

            var x = Random(rng, t * d);
            var y = Random(rng, t * d);
            var gl = Random(rng, t);
            using var xt = b.Upload(x, t, d);
            using var yt = b.Upload(y, t, d);
            using var gt = b.Upload(gl, t, 1);
            using var o = b.Allocate(DType.F32, t, d);
            b.SiluMul(xt, yt, o);
            Assert.True(MaxAbsDiff(Download(b, o), x.Select((a, i) => Silu(a) * y[i]).ToArray()) < 1e-6);
            b.SigmoidMul(xt, yt, o);
            Assert.True(MaxAbsDiff(Download(b, o), x.Select((a, i) => a * Sigmoid(y[i])).ToArray()) < 1e-6);
            b.Add(xt, yt, o);
            Assert.True(MaxAbsDiff(Download(b, o), x.Select((a, i) => (double)a + y[i]).ToArray()) < 1e-6);
            b.SigmoidScaleAdd(o, yt, gt);
            Assert.True(MaxAbsDiff(Download(b, o), x.Select((a, i) => (double)a + y[i] + Sigmoid(gl[i / d]) * y[i]).ToArray()) < 1e-5);
        }
        finally { Free(keep); }
    }
}

public sealed class CpuBackendTests : BackendContract
{
    protected override IBackend CreateBackend() => new Cpu.CpuBackend();
}
