using static Fse.Kernels.Tests.Reference;

namespace Fse.Kernels.Tests;

/// <summary>
/// Shapes that send device backends down their special paths: vectorised and scalar weight reads, few-token and
/// many-token matmuls, widths larger than a thread group, head sizes that are not a multiple of 8, experts with more
/// tokens than one tile, and ids outside their tables.
/// </summary>
public abstract partial class BackendContract
{
    [Theory]
    [InlineData(1, 40, true)]      // a decode step: one stacked GEMV on device backends
    [InlineData(3, 40, false)]
    [InlineData(2, 37, true)]      // K not a multiple of 8: scalar weight reads
    [InlineData(70, 40, true)]     // prefill-sized: one MatMul per block
    public void MatMulSplitFillsEachBlockAsItsOwnMatMul(int t, int k, bool withBias)
    {
        using var b = CreateBackend();
        var rng = new Random(21 + t);
        int[] widths = [9, 16, 1, 6];
        int n = widths.Sum();
        WithMatMulInputs(b, rng, DType.BF16, t, k, n, m =>
        {
            var outs = widths.Select(width => b.Allocate(DType.F32, t, width)).ToArray();
            b.MatMulSplit(m.Xt, m.Wt, withBias ? m.Bt : null, outs);
            int offset = 0;
            for (int o = 0; o < widths.Length; o++)
            {
                var got = Download(b, outs[o]);
                var want = MatMulReference(m.X, m.W, withBias ? m.Bias : null, t, k, DType.BF16, offset, widths[o]);
                Assert.True(MaxAbsDiff(got, want) < 1e-5, $"block {o}: max diff {MaxAbsDiff(got, want)}");
                offset += widths[o];
                outs[o].Dispose();
            }

            using var short1 = b.Allocate(DType.F32, t, 9);
            using var short2 = b.Allocate(DType.F32, t, 16);
            var error = Assert.Throws<ArgumentException>(() => b.MatMulSplit(m.Xt, m.Wt, null, [short1, short2]));
            Assert.Contains("rows", error.Message);
        });
    }

    [Theory]
    [InlineData(DType.BF16, 3, 64)]     // few tokens, K a multiple of 8: 128-bit loads
    [InlineData(DType.BF16, 6, 520)]    // two token tiles, many 8-element chunks per lane
    [InlineData(DType.BF16, 3, 520)]    // 16-bit, few tokens: rows longer than what a lane loads before its wait
    [InlineData(DType.F16, 2, 1000)]
    [InlineData(DType.F16, 4, 24)]
    [InlineData(DType.F32, 7, 40)]
    [InlineData(DType.BF16, 19, 37)]    // many tokens, K not a multiple of 8
    [InlineData(DType.F32, 19, 48)]
    [InlineData(DType.F16, 70, 48)]     // prefill-sized: cuBLAS where a device has it
    [InlineData(DType.BF16, 70, 64)]
    public void MatMulMatchesFloat64OnEveryPath(DType dtype, int t, int k)
    {
        using var b = CreateBackend();
        var rng = new Random(10 + t + k);
        int n = 41;
        WithMatMulInputs(b, rng, dtype, t, k, n, m =>
        {
            using var o = b.Allocate(DType.F32, t, n);
            b.MatMul(m.Xt, m.Wt, t % 2 == 0 ? m.Bt : null, o);
            var want = MatMulReference(m.X, m.W, t % 2 == 0 ? m.Bias : null, t, k, dtype, 0, n);
            AssertClose(Download(b, o), want, 1e-5);
        });
    }

    [Fact]
    public void MatMulReadsViewsThatStartMidVector()
    {
        using var b = CreateBackend();
        var rng = new Random(11);
        int t = 3, n = 9, k = 16;
        // A bf16 weight whose rows of 16 start 8 bytes into the buffer, and an x that is a slice of a larger tensor.
        var w = Random(rng, 4 + n * k);
        var x = Random(rng, (t + 1) * k);
        var keep = new List<nint>();
        try
        {
            using var table = b.Upload(Host(w, DType.BF16, [1 + n * k / 4, 4], keep));
            using var wView = table.Slice(1, n * k / 4);
            using var wt = wView.Reshape(n, k);
            using var xAll = b.Upload(x, t + 1, k);
            using var xt = xAll.Slice(1, t);
            using var o = b.Allocate(DType.F32, t, n);
            b.MatMul(xt, wt, null, o);
            var want = new double[t * n];
            for (int i = 0; i < t; i++)
                for (int j = 0; j < n; j++)
                    for (int q = 0; q < k; q++) want[i * n + j] += x[(i + 1) * k + q] * (double)Stored(w[4 + j * k + q], DType.BF16);
            AssertClose(Download(b, o), want, 1e-5);
        }
        finally { Free(keep); }
    }

    [Fact]
    public void RmsNormInPlaceOverRowsWiderThanAGroup()
    {
        using var b = CreateBackend();
        var rng = new Random(12);
        int rows = 3, d = 300;
        var x = Random(rng, rows * d, 5f);
        var w = Random(rng, d);
        using var xt = b.Upload(x, rows, d);
        using var wt = b.Upload(w, d);
        b.RmsNorm(xt, wt, xt, 1e-5f, unitOffset: true);
        var want = new double[rows * d];
        for (int r = 0; r < rows; r++)
        {
            double ms = 0;
            for (int i = 0; i < d; i++) ms += (double)x[r * d + i] * x[r * d + i];
            double inv = 1 / Math.Sqrt(ms / d + 1e-5);
            for (int i = 0; i < d; i++) want[r * d + i] = x[r * d + i] * inv * (1 + w[i]);
        }
        AssertClose(Download(b, xt), want, 1e-5);
    }

    [Fact]
    public void PagedAttentionWithOddHeadSizeGroupedHeadsAndALongPrefill()
    {
        using var b = CreateBackend();
        var rng = new Random(13);
        int heads = 6, kvHeads = 2, hd = 10, bs = 16, maxBlocks = 3;   // hd not a multiple of 4: the element-wise path
        int[] lengths = [37, 6];
        int[][] steps = [[33, 5], [1, 1], [3, 0]];   // tokens fed per step and sequence: prefill, one decode step, a 3-token chunk
        int[] table = [4, 0, 2, 1, 5, 3];
        var q = lengths.Select(n => Random(rng, n * heads * hd)).ToArray();
        var k = lengths.Select(n => Random(rng, n * kvHeads * hd)).ToArray();
        var v = lengths.Select(n => Random(rng, n * kvHeads * hd)).ToArray();
        using var kc = b.Allocate(DType.F32, 6 * bs, kvHeads, hd);
        using var vc = b.Allocate(DType.F32, 6 * bs, kvHeads, hd);
        var got = lengths.Select(n => new float[n * heads * hd]).ToArray();
        var fed = new int[lengths.Length];
        foreach (var step in steps)
        {
            var seqs = Enumerable.Range(0, lengths.Length).Where(s => step[s] > 0).ToArray();
            var starts = new List<int> { 0 };
            var positions = new List<int>();
            var rowsOf = new List<int>();
            foreach (var s in seqs)
            {
                for (int p = fed[s]; p < fed[s] + step[s]; p++) { positions.Add(p); rowsOf.Add(s); }
                starts.Add(positions.Count);
            }
            float[] Gather(float[][] src, int width) => positions.Select((p, i) => src[rowsOf[i]].AsSpan(p * width, width).ToArray()).SelectMany(r => r).ToArray();
            var batchTable = seqs.SelectMany(s => table.AsSpan(s * maxBlocks, maxBlocks).ToArray()).ToArray();
            var batch = new SequenceBatch([.. starts], [.. positions], batchTable, maxBlocks, bs, [.. seqs], [.. seqs.Select(s => fed[s] == 0)]);
            int t = positions.Count;
            using var qt = b.Upload(Gather(q, heads * hd), t, heads, hd);
            using var kt = b.Upload(Gather(k, kvHeads * hd), t, kvHeads, hd);
            using var vt = b.Upload(Gather(v, kvHeads * hd), t, kvHeads, hd);
            using var o = b.Allocate(DType.F32, t, heads, hd);
            b.PagedAttention(qt, kt, vt, kc, vc, batch, 0.25f, o);
            var os = Download(b, o);
            for (int i = 0; i < t; i++) os.AsSpan(i * heads * hd, heads * hd).CopyTo(got[rowsOf[i]].AsSpan(positions[i] * heads * hd));
            foreach (var s in seqs) fed[s] += step[s];
        }
        for (int s = 0; s < lengths.Length; s++)
        {
            var want = CausalAttention(q[s], k[s], v[s], lengths[s], heads, kvHeads, hd, 0.25f);
            AssertClose(got[s], want, 1e-5);
        }
    }

    [Theory]
    [InlineData(DeltaRuleForm.Auto)]
    [InlineData(DeltaRuleForm.Recurrent)]
    [InlineData(DeltaRuleForm.Chunked)]
    public void GatedDeltaNetWithOddHeadSizesAndThreeSequences(DeltaRuleForm form)
    {
        using var b = CreateBackend();
        var rng = new Random(14);
        CheckGatedDeltaNet(b, rng, form, nk: 1, dk: 12, nv: 2, dv: 20, kernel: 3, lengths: [9, 2, 6], split: [7, 1, 1], slots: [1, 3, 0], stateSlots: 4, chunk: 4);
    }

    /// <summary>
    /// Two decode steps (one token per sequence) after a prefill: device backends then fold the q/k L2 norms into the delta
    /// rule; the second step reads the conv and recurrent states the first one moved on.
    /// </summary>
    [Fact]
    public void GatedDeltaNetDecodeStepsAfterAPrefill()
    {
        using var b = CreateBackend();
        var rng = new Random(16);
        CheckGatedDeltaNet(b, rng, DeltaRuleForm.Auto, nk: 2, dk: 12, nv: 4, dv: 6, kernel: 4, lengths: [10, 7, 4], split: [8, 5, 2], slots: [2, 0, 1], stateSlots: 3, chunk: 4, split2: [9, 6, 3]);
    }

    /// <summary>
    /// A key dim wider than the CPU accelerator's 4 rows × 4-lane warps, so the simulated CUDA backend takes its
    /// shared-memory delta-rule kernel (the H100 runs the same shape in registers); the cases above take the register one.
    /// </summary>
    [Fact]
    public void GatedDeltaNetWithAWideKeyDim()
    {
        using var b = CreateBackend();
        var rng = new Random(15);
        CheckGatedDeltaNet(b, rng, DeltaRuleForm.Recurrent, nk: 1, dk: 20, nv: 2, dv: 5, kernel: 4, lengths: [6, 2], split: [5, 1], slots: [0, 1], stateSlots: 2, chunk: 4);
    }

    [Fact]
    public void SoftmaxRoutingOverMoreExpertsThanThreadsWithTies()
    {
        using var b = CreateBackend();
        var rng = new Random(15);
        int t = 5, e = 70, k = 8, shared = 1;
        var logits = Random(rng, t * (e + shared), 3f);
        for (int i = 0; i < t; i++)
            foreach (var j in new[] { 69, 41, 3 }) logits[i * (e + shared) + j] = 3.5f;   // a three-way tie at the top
        var gotIds = CheckSoftmaxRouting(b, logits, t, e, k, shared, renormalize: true);
        for (int i = 0; i < t; i++) Assert.Equal([3, 41, 69], gotIds.AsSpan(i * (k + shared), 3).ToArray());
    }

    [Fact]
    public void RoutingBreaksWideTiesByTheLowerIndex()
    {
        using var b = CreateBackend();
        var rng = new Random(18);
        int t = 3, e = 40, k = 6;
        // Softmax: every logit of a token equal, so every probability ties and the first k experts win.
        var flat = Enumerable.Range(0, t * e).Select(i => (float)(i / e) - 1f).ToArray();
        using var lt = b.Upload(flat, t, e);
        using var ids = b.Allocate(DType.I32, t, k);
        using var w = b.Allocate(DType.F32, t, k);
        b.RouteSoftmax(lt, e, k, true, 0, ids, w);
        var gotIds = new int[t * k];
        b.Download(ids, gotIds);
        Assert.Equal(Enumerable.Range(0, t).SelectMany(_ => Enumerable.Range(0, k)), gotIds);
        Assert.All(Download(b, w), v => Assert.Equal(1.0 / k, v, 1e-6));

        // Grouped sigmoid with a bias that makes every choice negative: experts of dropped groups must still never be chosen.
        int ge = 16, groups = 4, keepGroups = 2, gk = 3;
        var logits = Random(rng, t * ge, 3f);
        var bias = Enumerable.Repeat(-2f, ge).ToArray();
        using var glt = b.Upload(logits, t, ge);
        using var bt = b.Upload(bias, ge);
        using var gids = b.Allocate(DType.I32, t, gk);
        using var gw = b.Allocate(DType.F32, t, gk);
        b.RouteSigmoidGrouped(glt, bt, gk, groups, keepGroups, false, 1f, 0, gids, gw);
        var gotG = new int[t * gk];
        b.Download(gids, gotG);
        int per = ge / groups;
        for (int i = 0; i < t; i++)
        {
            var choice = Enumerable.Range(0, ge).Select(j => Sigmoid(logits[i * ge + j]) + bias[j]).ToArray();
            var groupScore = Enumerable.Range(0, groups).Select(g => choice.Skip(g * per).Take(per).OrderDescending().Take(2).Sum()).ToArray();
            var kept = TopK(groupScore, keepGroups);
            var masked = Enumerable.Range(0, ge).Select(j => kept.Contains(j / per) ? choice[j] : double.NegativeInfinity).ToArray();
            Assert.Equal(TopK(masked, gk), gotG.AsSpan(i * gk, gk).ToArray());
        }
    }

    /// <summary>
    /// 40 tokens: experts 1 and 4 get more pairs than a GEMM tile (the H100's cuBLAS path for BF16); 1 and 2 tokens: the
    /// CUDA backend's few-token path without alignment.
    /// </summary>
    [Theory]
    [InlineData(DType.BF16, 1, 16, 8)]
    [InlineData(DType.F32, 2, 16, 8)]
    [InlineData(DType.BF16, 13, 16, 8)]
    [InlineData(DType.BF16, 40, 16, 8)]
    [InlineData(DType.F16, 13, 16, 8)]
    [InlineData(DType.F32, 13, 16, 8)]
    [InlineData(DType.BF16, 13, 136, 72)]   // rows of 17 and 9 chunks: the unrolled passes of the tile kernels and their remainders
    [InlineData(DType.BF16, 3, 136, 72)]    // the same on the few-token direct kernels
    public void GroupedExpertsWithManyTokensPerSlotOnTheVectorPath(DType dtype, int t, int h, int width)
    {
        using var b = CreateBackend();
        var rng = new Random(16);
        int slots = 5, per = 3;
        var keep = new List<nint>();
        try
        {
            var gates = Enumerable.Range(0, slots).Select(_ => Random(rng, width * h)).ToArray();
            var ups = Enumerable.Range(0, slots).Select(_ => Random(rng, width * h)).ToArray();
            var downs = Enumerable.Range(0, slots).Select(_ => Random(rng, h * width)).ToArray();
            using var set = b.CreateExpertSet(Enumerable.Range(0, slots).Select(i => new ExpertSlot(
                Host(gates[i], dtype, [width, h], keep), Host(ups[i], dtype, [width, h], keep), Host(downs[i], dtype, [h, width], keep))).ToArray());
            var x = Random(rng, t * h, 2f);
            // Two routed slots among experts 0..3 (expert 1 takes most tokens), then the shared slot 4 for every token.
            var ids = Enumerable.Range(0, t).SelectMany(i => new[] { 1, i % 5 == 0 ? 0 : i % 2 == 0 ? 2 : 3, 4 }).ToArray();
            var weights = Random(rng, t * per);
            using var xt = b.Upload(x, t, h);
            using var it = b.Upload(ids, t, per);
            using var wt = b.Upload(weights, t, per);
            using var o = b.Allocate(DType.F32, t, h);
            b.MoeExperts(xt, it, wt, set, o);
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
                            g += Stored(gates[e][r * h + c], dtype) * (double)x[i * h + c];
                            u += Stored(ups[e][r * h + c], dtype) * (double)x[i * h + c];
                        }
                        act[r] = Silu(g) * u;
                    }
                    for (int c = 0; c < h; c++)
                    {
                        double y = 0;
                        for (int r = 0; r < width; r++) y += Stored(downs[e][c * width + r], dtype) * act[r];
                        want[i * h + c] += weights[i * per + j] * y;
                    }
                }
            AssertClose(Download(b, o), want, 1e-5);
        }
        finally { Free(keep); }
    }

    /// <summary>
    /// A one-slot expert set of <paramref name="dtype"/> weights, and ids [0, 1] over <paramref name="tokens"/> tokens with
    /// <paramref name="weights"/>: slot 1 does not exist, and the expert pass must report it.
    /// </summary>
    private static void AssertExpertIdOutsideTheSetIsReported(IBackend b, Random rng, DType dtype, int width, int hidden, int tokens, float[] weights)
    {
        var keep = new List<nint>();
        try
        {
            var w = Random(rng, width * hidden);
            using var set = b.CreateExpertSet([new ExpertSlot(Host(w, dtype, [width, hidden], keep), Host(w, dtype, [width, hidden], keep), Host(w, dtype, [hidden, width], keep))]);
            using var x = b.Upload(Random(rng, tokens * hidden), tokens, hidden);
            using var ids = b.Upload([0, 1], tokens, 2 / tokens);
            using var wt = b.Upload(weights, tokens, 2 / tokens);
            using var o = b.Allocate(DType.F32, tokens, hidden);
            Assert.ThrowsAny<Exception>(() =>
            {
                b.MoeExperts(x, ids, wt, set, o);
                b.Synchronize();
            });
        }
        finally { Free(keep); }
    }

    [Fact]
    public void AnExpertIdOutsideTheSetIsReportedForASingleTokenOnTheVectorLayout()
    {
        using var b = CreateBackend();
        var rng = new Random(18);
        AssertExpertIdOutsideTheSetIsReported(b, rng, DType.BF16, width: 8, hidden: 8, tokens: 1, [0.5f, 0.5f]);
    }

    [Fact]
    public void F16TablesWidenExactlyIncludingSubnormalsAndInfinities()
    {
        using var b = CreateBackend();
        float[] values = [0f, -0f, 5.9604645e-8f, -3.0517578e-5f, 6.1035156e-5f, 65504f, -65504f, float.PositiveInfinity, float.NegativeInfinity, 1f / 3, -2.71828f, 1e-3f];
        var keep = new List<nint>();
        try
        {
            using var table = b.Upload(Host(values, DType.F16, [values.Length, 1], keep));
            var idx = Enumerable.Range(0, values.Length).Reverse().ToArray();
            using var ids = b.Upload(idx, idx.Length);
            using var o = b.Allocate(DType.F32, idx.Length, 1);
            b.Embedding(ids, table, o);
            var got = Download(b, o);
            for (int i = 0; i < idx.Length; i++)
                Assert.Equal(BitConverter.SingleToInt32Bits((float)(Half)values[idx[i]]), BitConverter.SingleToInt32Bits(got[i]));
        }
        finally { Free(keep); }
    }

    [Fact]
    public void OutOfRangeIdsAreReportedAndTheBackendStaysUsable()
    {
        using var b = CreateBackend();
        var rng = new Random(17);
        var table = Random(rng, 4 * 3);
        using var tt = b.Upload(table, 4, 3);
        using var bad = b.Upload([1, 4], 2);
        using var e = b.Allocate(DType.F32, 2, 3);
        Assert.ThrowsAny<Exception>(() =>
        {
            b.Embedding(bad, tt, e);
            b.Synchronize();
        });

        AssertExpertIdOutsideTheSetIsReported(b, rng, DType.F32, width: 2, hidden: 3, tokens: 2, [1f, 1f]);

        using var good = b.Upload([3, 0], 2);
        b.Embedding(good, tt, e);
        AssertClose(Download(b, e), [.. table.AsSpan(9, 3).ToArray().Concat(table.AsSpan(0, 3).ToArray()).Select(v => (double)v)], 0);
    }

    /// <summary>Every value within tol·(1 + max |want|) of float64; NaN never passes.</summary>
    private static void AssertClose(float[] got, double[] want, double tol)
    {
        Assert.Equal(want.Length, got.Length);
        double scale = 1 + want.Max(Math.Abs);
        for (int i = 0; i < got.Length; i++)
            Assert.True(Math.Abs(got[i] - want[i]) <= tol * scale, $"[{i}]: want {want[i]}, got {got[i]} (tolerance {tol * scale})");
    }
}
