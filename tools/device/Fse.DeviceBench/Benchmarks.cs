using ILGPU;
using ILGPU.Runtime;
using Fse.Kernels;
using Fse.Kernels.Cpu;
using Fse.Kernels.Cuda;

namespace Fse.DeviceBench;

/// <summary>The kernel micro-benchmarks; each result is checked against the CPU backend (or the equivalent path) on the same data.</summary>
internal sealed class Benchmarks(CudaBackend cuda, CpuBackend cpu, HostWeights host, BenchSizes z)
{
    private readonly List<Row> _rows = [];

    public IReadOnlyList<Row> Rows => _rows;

    /// <summary>Device-to-device copy of 1 GiB: the bandwidth ceiling the kernels are compared with (bytes read + written).</summary>
    public double CopyBandwidth()
    {
        long bytes = z.CopyBytes;
        using var a = cuda.Allocate(DType.F32, (int)(bytes / 4));
        using var c = cuda.Allocate(DType.F32, (int)(bytes / 4));
        var src = ((CudaTensor)a).View;
        var dst = ((CudaTensor)c).View;
        double us = Measure.Micros(cuda, _ => src.CopyTo(dst));
        double tbs = 2.0 * bytes / us / 1e6;
        _rows.Add(new Row("baseline", $"device copy {bytes >> 20} MiB", us, $"{tbs:F2} TB/s", "-"));
        using var one = cuda.Upload([1f], 1);
        double floor = Measure.Micros(cuda, _ => cuda.Add(one, one, one));
        double host = Measure.HostMicros(cuda, _ => cuda.Add(one, one, one));
        _rows.Add(new Row("baseline", "launch floor: Add of 1 element", floor, $"host {host:F1} µs/op", "-"));
        return tbs;
    }

    /// <summary>
    /// The MatMul paths on one bf16 weight shape over a range of token counts, each call on the next of four weight
    /// copies so that L2 (50 MB) cannot hold the weight between calls. Checked against the CPU backend up to
    /// <see cref="BenchSizes.MatMulCheckTokens"/> tokens.
    /// </summary>
    public void MatMulPaths(int n, int k, int[] tokens, double copyTbs)
    {
        var hw = host.Random(DType.BF16, [n, k], seed: n + 7 * k, scale: 0.05f);
        var ws = Enumerable.Range(0, 4).Select(_ => cuda.Upload(hw)).ToArray();
        using var wCpu = cpu.Upload(hw);
        var paths = new (string Name, CudaBackendOptions Options)[]
        {
            ("gemv", new CudaBackendOptions { GemvMaxTokens = int.MaxValue, UseCublas = false }),
            ("tiled", new CudaBackendOptions { GemvMaxTokens = 0, UseCublas = false }),
            ("cublas bf16x3", new CudaBackendOptions { CublasMinTokens = 1, Bf16SplitTerms = 3 }),
            ("cublas bf16x1", new CudaBackendOptions { CublasMinTokens = 1, Bf16SplitTerms = 1 }),
        };
        foreach (int t in tokens)
        {
            var x = HostWeights.Floats(t * k, seed: 1000 + t);
            using var xg = cuda.Upload(x, t, k);
            using var og = cuda.Allocate(DType.F32, t, n);
            float[]? want = null;
            if (t <= z.MatMulCheckTokens)
            {
                using var xc = cpu.Upload(x, t, k);
                using var oc = cpu.Allocate(DType.F32, t, n);
                cpu.MatMul(xc, wCpu, null, oc);
                want = Measure.Get(cpu, oc);
            }
            foreach (var (name, options) in paths)
            {
                if (name.StartsWith("cublas") && !cuda.HasCublas) continue;
                if (name == "gemv" && t > 64 || name == "tiled" && t < 16) continue;
                cuda.Options = options;
                double us = Measure.Micros(cuda, i => cuda.MatMul(xg, ws[i % 4], null, og));
                double tbs = 2.0 * n * k / us / 1e6, tflops = 2.0 * t * n * k / us / 1e6;
                string check = want is null ? "-" : Measure.Err(Measure.RelativeError(Measure.Get(cuda, og), want), name == "cublas bf16x1" ? 1e-2 : 1e-5);
                _rows.Add(new Row($"MatMul bf16 {n}x{k}", $"T={t} {name}", us, $"{tbs:F2} TB/s ({100 * tbs / copyTbs:F0}%), {tflops:F1} TFLOP/s", check));
            }
        }
        cuda.Options = new CudaBackendOptions();
        foreach (var w in ws) w.Dispose();
    }

    /// <summary>
    /// One attention call's tensors on a backend: the step's q, k and v, the paged caches (the given values, or zeros when
    /// null) and the output, so the CUDA call and its CPU reference are set up alike.
    /// </summary>
    private sealed class AttentionTensors : IDisposable
    {
        public AttentionTensors(IBackend b, float[] q, float[] k, float[] v, float[]? cacheK, float[]? cacheV, int tokens, int heads, int kvHeads, int hd, int slots)
        {
            Q = b.Upload(q, tokens, heads, hd);
            K = b.Upload(k, tokens, kvHeads, hd);
            V = b.Upload(v, tokens, kvHeads, hd);
            KeyCache = cacheK is null ? b.Allocate(DType.F32, slots, kvHeads, hd) : b.Upload(cacheK, slots, kvHeads, hd);
            ValueCache = cacheV is null ? b.Allocate(DType.F32, slots, kvHeads, hd) : b.Upload(cacheV, slots, kvHeads, hd);
            Out = b.Allocate(DType.F32, tokens, heads, hd);
        }

        public Tensor Q { get; }
        public Tensor K { get; }
        public Tensor V { get; }
        public Tensor KeyCache { get; }
        public Tensor ValueCache { get; }
        public Tensor Out { get; }

        public void Run(IBackend b, SequenceBatch batch, float scale) => b.PagedAttention(Q, K, V, KeyCache, ValueCache, batch, scale, Out);

        public void Dispose()
        {
            foreach (var t in new[] { Q, K, V, KeyCache, ValueCache, Out }) t.Dispose();
        }
    }

    /// <summary>
    /// Decode attention of the Qwen3-Next full-attention layer (16 query heads, 2 KV heads, head dim 256): B sequences
    /// of <paramref name="context"/> cached tokens, one new token each (KV write included).
    /// </summary>
    public void AttentionDecode(int batch, int context)
    {
        int heads = z.AttentionHeads, kvHeads = z.AttentionKvHeads, hd = z.AttentionHeadDim, bs = 16;
        int blocksPerSeq = (context + bs - 1) / bs, slots = batch * blocksPerSeq * bs;
        var cacheK = HostWeights.Floats(slots * kvHeads * hd, seed: 31);
        var cacheV = HostWeights.Floats(slots * kvHeads * hd, seed: 32);
        var q = HostWeights.Floats(batch * heads * hd, seed: 33);
        var k = HostWeights.Floats(batch * kvHeads * hd, seed: 34);
        var v = HostWeights.Floats(batch * kvHeads * hd, seed: 35);
        using var g = new AttentionTensors(cuda, q, k, v, cacheK, cacheV, batch, heads, kvHeads, hd, slots);
        // Sequence s owns blocks [s·blocksPerSeq, (s+1)·blocksPerSeq) in reverse order (a scattered table).
        var table = Enumerable.Range(0, batch).SelectMany(s => Enumerable.Range(0, blocksPerSeq).Select(j => s * blocksPerSeq + blocksPerSeq - 1 - j)).ToArray();
        var sb = new SequenceBatch([.. Enumerable.Range(0, batch + 1)], [.. Enumerable.Repeat(context - 1, batch)], table, blocksPerSeq, bs,
            [.. Enumerable.Range(0, batch)], [.. Enumerable.Repeat(false, batch)]);
        float scale = 1f / MathF.Sqrt(hd);
        double us = Measure.Micros(cuda, _ => g.Run(cuda, sb, scale), sb);
        double host = Measure.HostMicros(cuda, _ => g.Run(cuda, sb, scale));
        string check = "-";
        if (batch == 1)
        {
            using var c = new AttentionTensors(cpu, q, k, v, cacheK, cacheV, batch, heads, kvHeads, hd, slots);
            c.Run(cpu, new SequenceBatch([0, 1], [context - 1], table, blocksPerSeq, bs, [0], [false]), scale);
            check = Measure.Err(Measure.RelativeError(Measure.Get(cuda, g.Out), Measure.Get(cpu, c.Out)), 1e-5);
        }
        double bytes = 2.0 * batch * context * kvHeads * hd * 4;
        _rows.Add(new Row($"PagedAttention decode {heads}q/{kvHeads}kv x{hd}", $"B={batch} context={context}", us, $"{bytes / us / 1e6:F2} TB/s of KV, host {host:F1} µs", check));
    }

    /// <summary>One fresh prompt of <paramref name="tokens"/> tokens: the paged kernel against the dense cuBLAS path, each checked against the CPU.</summary>
    public void AttentionPrefill(int tokens)
    {
        int heads = z.AttentionHeads, kvHeads = z.AttentionKvHeads, hd = z.AttentionHeadDim, bs = 16;
        int blocks = (tokens + bs - 1) / bs;
        var q = HostWeights.Floats(tokens * heads * hd, seed: 41);
        var k = HostWeights.Floats(tokens * kvHeads * hd, seed: 42);
        var v = HostWeights.Floats(tokens * kvHeads * hd, seed: 43);
        using var g = new AttentionTensors(cuda, q, k, v, null, null, tokens, heads, kvHeads, hd, blocks * bs);
        SequenceBatch Batch() => new([0, tokens], [.. Enumerable.Range(0, tokens)], [.. Enumerable.Range(0, blocks)], blocks, bs, [0], [true]);
        float scale = 1f / MathF.Sqrt(hd);
        using var c = new AttentionTensors(cpu, q, k, v, null, null, tokens, heads, kvHeads, hd, blocks * bs);
        c.Run(cpu, Batch(), scale);
        var want = Measure.Get(cpu, c.Out);
        var saved = cuda.Options;
        cuda.Options = saved with { DenseAttentionMinTokens = int.MaxValue };
        var sb = Batch();
        double paged = Measure.Micros(cuda, _ => g.Run(cuda, sb, scale), sb);
        string pagedErr = Measure.Err(Measure.RelativeError(Measure.Get(cuda, g.Out), want), 1e-5);
        cuda.Options = saved with { DenseAttentionMinTokens = 1 };
        var sb2 = Batch();
        double dense = Measure.Micros(cuda, _ => g.Run(cuda, sb2, scale), sb2);
        string denseErr = Measure.Err(Measure.RelativeError(Measure.Get(cuda, g.Out), want), 1e-5);
        cuda.Options = saved;
        _rows.Add(new Row($"PagedAttention prefill {heads}q/{kvHeads}kv x{hd}", $"one fresh {tokens}-token prompt: paged kernel {paged:F1} µs ({pagedErr}), dense cuBLAS",
            dense, $"{paged / dense:F2}x", "dense vs cpu " + denseErr));
    }

    /// <summary>
    /// The Qwen3-Next linear-attention core (16 key heads, 32 value heads, 128×128 state each): <paramref name="batch"/>
    /// sequences of <paramref name="perSeq"/> tokens each (1: a decode step; more: prompt chunks on a carried state).
    /// </summary>
    public void DeltaNetDecode(int batch, int perSeq = 1)
    {
        int nk = z.DeltaKeyHeads, nv = z.DeltaValueHeads, dk = z.DeltaHeadDim, dv = z.DeltaHeadDim, kernel = 4, channels = 2 * nk * dk + nv * dv;
        int tokens = batch * perSeq;
        var data = new Dictionary<string, float[]>
        {
            ["mixed"] = HostWeights.Floats(tokens * channels, 41, 2f), ["z"] = HostWeights.Floats(tokens * nv * dv, 42, 2f),
            ["b"] = HostWeights.Floats(tokens * nv, 43, 2f), ["a"] = HostWeights.Floats(tokens * nv, 44, 2f),
            ["conv"] = HostWeights.Floats(channels * kernel, 45), ["alog"] = HostWeights.Floats(nv, 46), ["dt"] = HostWeights.Floats(nv, 47),
            ["norm"] = HostWeights.Floats(dv, 48), ["convState"] = HostWeights.Floats(batch * channels * (kernel - 1), 49),
            // The recurrent state starts at zeros, as a sequence's does: its memory layout is each backend's own.
            ["state"] = new float[batch * nv * dk * dv],
        };
        var sb = new SequenceBatch([.. Enumerable.Range(0, batch + 1).Select(q => q * perSeq)], [.. Enumerable.Range(0, tokens).Select(i => 100 + i % perSeq)],
            [.. Enumerable.Range(0, batch)], 1, 1 << 20, [.. Enumerable.Range(0, batch)], [.. Enumerable.Repeat(false, batch)]);
        GatedDeltaNetArgs Args(IBackend b, List<Tensor> keep)
        {
            Tensor U(string name, params int[] shape)
            {
                var t = b.Upload(data[name], shape);
                keep.Add(t);
                return t;
            }
            var output = b.Allocate(DType.F32, tokens, nv * dv);
            keep.Add(output);
            return new GatedDeltaNetArgs
            {
                KeyHeads = nk, KeyDim = dk, ValueHeads = nv, ValueDim = dv, ConvKernel = kernel, NormEps = 1e-6f,
                MixedQkv = U("mixed", tokens, channels), Z = U("z", tokens, nv * dv), B = U("b", tokens, nv), A = U("a", tokens, nv),
                ConvWeight = U("conv", channels, kernel), ALog = U("alog", nv), DtBias = U("dt", nv), NormWeight = U("norm", dv),
                ConvState = U("convState", batch, channels, kernel - 1), RecurrentState = U("state", batch, nv, dk, dv), Output = output,
            };
        }
        var keepG = new List<Tensor>();
        var keepC = new List<Tensor>();
        try
        {
            var ag = Args(cuda, keepG);
            var ac = Args(cpu, keepC);
            // Two steps on each backend: the first fills the state from zeros, the second (checked) reads it back.
            for (int step = 0; step < 2; step++)
            {
                cuda.GatedDeltaNet(ag, sb);
                cpu.GatedDeltaNet(ac, sb);
            }
            string check = Measure.Err(Measure.RelativeError(Measure.Get(cuda, ag.Output), Measure.Get(cpu, ac.Output)), 1e-4);
            double us = Measure.Micros(cuda, _ => cuda.GatedDeltaNet(ag, sb), sb);
            double host = Measure.HostMicros(cuda, _ => cuda.GatedDeltaNet(ag, sb));
            double bytes = 2.0 * batch * nv * dk * dv * 4;
            _rows.Add(perSeq == 1
                ? new Row($"GatedDeltaNet decode {nk}k/{nv}v x{dk}", $"B={batch}", us, $"{bytes / us / 1e6:F2} TB/s of state, host {host:F1} µs", "second step vs cpu " + check)
                : new Row($"GatedDeltaNet prefill {nk}k/{nv}v x{dk}", $"{batch} x {perSeq} tokens", us, $"{us / perSeq:F2} µs per token step", "second call vs cpu " + check));
        }
        finally
        {
            foreach (var t in keepG) t.Dispose();
            foreach (var t in keepC) t.Dispose();
        }
    }

    /// <summary>Qwen3-Next routing (E=512, k=10, one shared slot): the fused kernel against the four-launch chain.</summary>
    public void Routing()
    {
        int e = z.Experts, topK = z.TopK, shared = 1;
        var unfused = new UnfusedRouting(cuda);
        foreach (int t in z.RoutingTokens)
        {
            var logits = HostWeights.Floats(t * (e + shared), seed: 7 + t, scale: 3f);
            using var lg = cuda.Upload(logits, t, e + shared);
            using var probs = cuda.Allocate(DType.F32, t, e);
            using var ids = cuda.Allocate(DType.I32, t, topK + shared);
            using var w = cuda.Allocate(DType.F32, t, topK + shared);
            using var ids2 = cuda.Allocate(DType.I32, t, topK + shared);
            using var w2 = cuda.Allocate(DType.F32, t, topK + shared);
            double fused = Measure.Micros(cuda, _ => cuda.RouteSoftmax(lg, e, topK, true, shared, ids, w));
            double fusedHost = Measure.HostMicros(cuda, _ => cuda.RouteSoftmax(lg, e, topK, true, shared, ids, w));
            double chain = Measure.Micros(cuda, _ => unfused.Run((CudaTensor)lg, (CudaTensor)probs, e, topK, shared, (CudaTensor)ids2, (CudaTensor)w2));

            using var lc = cpu.Upload(logits, t, e + shared);
            using var idc = cpu.Allocate(DType.I32, t, topK + shared);
            using var wc = cpu.Allocate(DType.F32, t, topK + shared);
            cpu.RouteSoftmax(lc, e, topK, true, shared, idc, wc);
            bool same = IdsOf(cuda, ids).SequenceEqual(IdsOf(cpu, idc)) && IdsOf(cuda, ids2).SequenceEqual(IdsOf(cpu, idc));
            double err = Math.Max(Measure.RelativeError(Measure.Get(cuda, w), Measure.Get(cpu, wc)), Measure.RelativeError(Measure.Get(cuda, w2), Measure.Get(cpu, wc)));
            string check = same ? Measure.Err(err, 1e-5) : "FAIL ids differ";
            _rows.Add(new Row($"RouteSoftmax E={e} k={topK} +1", $"T={t} fused (1 launch)", fused, $"{chain / fused:F2}x vs chain, host {fusedHost:F1} µs", check));
            _rows.Add(new Row($"RouteSoftmax E={e} k={topK} +1", $"T={t} chain (4 launches)", chain, "-", check));
        }
    }

    /// <summary>
    /// The Qwen3-Next MoE block (E=512, k=10, H=2048, I=512, one shared expert of width 512, bf16) at decode batch sizes:
    /// MoeExperts with and without the shared slot, and the whole block FSE on (fused gate, routing with the shared slot,
    /// one grouped pass) against FSE off (router, routing, grouped routed experts, then the shared MLP and its gate).
    /// </summary>
    public void Moe()
    {
        int e = z.Experts, topK = z.TopK, h = z.Hidden, inter = z.Inter, distinct = 16;
        var gates = Enumerable.Range(0, distinct).Select(i => host.Random(DType.BF16, [inter, h], 3 * i, 0.05f)).ToArray();
        var ups = Enumerable.Range(0, distinct).Select(i => host.Random(DType.BF16, [inter, h], 3 * i + 1, 0.05f)).ToArray();
        var downs = Enumerable.Range(0, distinct).Select(i => host.Random(DType.BF16, [h, inter], 3 * i + 2, 0.05f)).ToArray();
        // Slot s uses random matrix s % 16 (distinct device copies all the same): 513 slots, the last one the shared expert.
        var slots = Enumerable.Range(0, e + 1).Select(s => new ExpertSlot(gates[s % distinct], ups[s % distinct], downs[s % distinct])).ToArray();
        using var set = cuda.CreateExpertSet(slots);
        using var setCpu = cpu.CreateExpertSet(slots);
        var sharedSlot = slots[e];
        using var sGate = cuda.Upload(sharedSlot.Gate.Host);
        using var sUp = cuda.Upload(sharedSlot.Up.Host);
        using var sDown = cuda.Upload(sharedSlot.Down.Host);
        var router = host.Random(DType.BF16, [e + 1, h], 4242, 0.05f);
        using var gate513 = cuda.Upload(router);
        using var routerAll = cuda.Upload(router);
        using var gate512 = routerAll.Slice(0, e);
        using var sharedGate = routerAll.Slice(e, 1);
        long expertBytes = 3L * inter * h * 2;

        foreach (int t in z.MoeTokens)
        {
            var x = HostWeights.Floats(t * h, seed: 500 + t);
            using var xg = cuda.Upload(x, t, h);
            using var logitsOn = cuda.Allocate(DType.F32, t, e + 1);
            using var logitsOff = cuda.Allocate(DType.F32, t, e);
            using var idsOn = cuda.Allocate(DType.I32, t, topK + 1);
            using var wOn = cuda.Allocate(DType.F32, t, topK + 1);
            using var idsOff = cuda.Allocate(DType.I32, t, topK);
            using var wOff = cuda.Allocate(DType.F32, t, topK);
            using var outOn = cuda.Allocate(DType.F32, t, h);
            using var outOff = cuda.Allocate(DType.F32, t, h);
            using var sg = cuda.Allocate(DType.F32, t, inter);
            using var su = cuda.Allocate(DType.F32, t, inter);
            using var sy = cuda.Allocate(DType.F32, t, h);
            using var gl = cuda.Allocate(DType.F32, t, 1);

            void RouteOn()
            {
                cuda.MatMul(xg, gate513, null, logitsOn);
                cuda.RouteSoftmax(logitsOn, e, topK, true, 1, idsOn, wOn);
            }
            void RouteOff()
            {
                cuda.MatMul(xg, gate512, null, logitsOff);
                cuda.RouteSoftmax(logitsOff, e, topK, true, 0, idsOff, wOff);
            }
            void SharedMlp()
            {
                cuda.MatMul(xg, sGate, null, sg);
                cuda.MatMul(xg, sUp, null, su);
                cuda.SiluMul(sg, su, sg);
                cuda.MatMul(sg, sDown, null, sy);
                cuda.MatMul(xg, sharedGate, null, gl);
                cuda.SigmoidScaleAdd(outOff, sy, gl);
            }
            RouteOn();
            RouteOff();
            var ids = new int[t * (topK + 1)];
            cuda.Download(idsOn, ids);
            int touched = ids.Distinct().Count();

            double expertsOn = Measure.Micros(cuda, _ => cuda.MoeExperts(xg, idsOn, wOn, set, outOn));
            double expertsHost = Measure.HostMicros(cuda, _ => cuda.MoeExperts(xg, idsOn, wOn, set, outOn));
            double expertsOff = Measure.Micros(cuda, _ => cuda.MoeExperts(xg, idsOff, wOff, set, outOff));
            double blockOn = Measure.Micros(cuda, _ => { RouteOn(); cuda.MoeExperts(xg, idsOn, wOn, set, outOn); });
            double blockOff = Measure.Micros(cuda, _ => { RouteOff(); cuda.MoeExperts(xg, idsOff, wOff, set, outOff); SharedMlp(); });

            using var xc = cpu.Upload(x, t, h);
            using var idc = cpu.Upload(ids, t, topK + 1);
            using var wc = cpu.Upload(Measure.Get(cuda, wOn), t, topK + 1);
            using var oc = cpu.Allocate(DType.F32, t, h);
            cpu.MoeExperts(xc, idc, wc, setCpu, oc);
            var on = Measure.Get(cuda, outOn);
            string vsCpu = Measure.Err(Measure.RelativeError(on, Measure.Get(cpu, oc)), 1e-5);
            string onVsOff = Measure.Err(Measure.RelativeError(Measure.Get(cuda, outOff), on), 1e-5);
            double gbs = touched * expertBytes / expertsOn / 1e3;
            _rows.Add(new Row($"MoeExperts E={e} k={topK} H={h} I={inter}", $"T={t} k+shared ({topK + 1} slots)", expertsOn, $"{touched} experts, {gbs:F0} GB/s, host {expertsHost:F1} µs", "vs cpu " + vsCpu));
            _rows.Add(new Row($"MoeExperts E={e} k={topK} H={h} I={inter}", $"T={t} k only ({topK} slots)", expertsOff, "-", "-"));
            if (t <= 4)
            {
                // The few-token path (no alignment, down fused with the combine) against the aligned four-launch pass.
                var saved = cuda.Options;
                cuda.Options = saved with { MoeDirectMaxTokens = 0 };
                double aligned = Measure.Micros(cuda, _ => cuda.MoeExperts(xg, idsOn, wOn, set, outOn));
                cuda.Options = saved with { MoeDirectMaxTokens = 4 };
                double direct = Measure.Micros(cuda, _ => cuda.MoeExperts(xg, idsOn, wOn, set, outOn));
                string directErr = Measure.Err(Measure.RelativeError(Measure.Get(cuda, outOn), Measure.Get(cpu, oc)), 1e-5);
                cuda.Options = saved;
                _rows.Add(new Row($"MoeExperts few-token paths E={e} k={topK}", $"T={t}: aligned (4 launches) {aligned:F1} µs, direct (2)", direct,
                    $"{aligned / direct:F2}x, {touched * expertBytes / direct / 1e3:F0} GB/s", "direct vs cpu " + directErr));
            }
            if (cuda.HasCublas)
            {
                // The two expert paths on the same routing: GEMV-style kernels against batched cuBLAS GEMMs over 32-pair tiles.
                var saved = cuda.Options;
                cuda.Options = saved with { MoeCublasMinTokens = int.MaxValue };
                double gemv = Measure.Micros(cuda, _ => cuda.MoeExperts(xg, idsOn, wOn, set, outOn));
                cuda.Options = saved with { MoeCublasMinTokens = 1 };
                double gemm = Measure.Micros(cuda, _ => cuda.MoeExperts(xg, idsOn, wOn, set, outOn));
                string gemmErr = Measure.Err(Measure.RelativeError(Measure.Get(cuda, outOn), Measure.Get(cpu, oc)), 1e-5);
                cuda.Options = saved;
                _rows.Add(new Row($"MoeExperts paths E={e} k={topK} H={h} I={inter}", $"T={t}: GEMV kernels {gemv:F1} µs, batched cuBLAS", gemm, $"{gemv / gemm:F2}x", "cuBLAS vs cpu " + gemmErr));
                if (t >= 256)
                    foreach (var (terms, rows) in new[] { (1, 16), (2, 32), (3, 16), (3, 32), (2, 8) })
                    {
                        cuda.Options = saved with { MoeCublasMinTokens = 1, MoeGemmSplitTerms = terms, MoeGemmTileRows = rows };
                        double us = Measure.Micros(cuda, _ => cuda.MoeExperts(xg, idsOn, wOn, set, outOn));
                        string err = Measure.Err(Measure.RelativeError(Measure.Get(cuda, outOn), Measure.Get(cpu, oc)), terms == 1 ? 1e-2 : 1e-4);
                        cuda.Options = saved;
                        _rows.Add(new Row($"MoeExperts cuBLAS variants E={e} k={topK}", $"T={t}: {terms} bf16 terms, {rows}-pair tiles", us, $"{gemm / us:F2}x vs default", "vs cpu " + err));
                    }
            }
            _rows.Add(new Row("MoE block (gate, route, experts, shared)", $"T={t} FSE on", blockOn, $"{blockOff / blockOn:F2}x vs off", "on vs off " + onVsOff));
            _rows.Add(new Row("MoE block (gate, route, experts, shared)", $"T={t} FSE off", blockOff, "-", "-"));
        }
    }

    private static int[] IdsOf(IBackend b, Tensor t)
    {
        var a = new int[t.ElementCount];
        b.Download(t, a);
        return a;
    }
}

/// <summary>Problem sizes: the real ones on the GPU, tiny ones to smoke-test the benchmark code on the CPU accelerator.</summary>
internal sealed record BenchSizes(long CopyBytes, int MatMulN, int MatMulK, int[] MatMulTokens, int[] MatMulTokensTransposed, int MatMulCheckTokens,
    int Experts, int TopK, int[] RoutingTokens, int Hidden, int Inter, int[] MoeTokens,
    int AttentionHeads, int AttentionKvHeads, int AttentionHeadDim, int[] AttentionBatches, int AttentionContext,
    int DeltaKeyHeads, int DeltaValueHeads, int DeltaHeadDim, int[] DeltaBatches)
{
    public static readonly BenchSizes Gpu = new(1L << 30, 8192, 2048, [1, 2, 4, 8, 16, 64, 256, 4096], [1, 2, 4, 8, 16], 256,
        512, 10, [1, 16, 256, 4096], 2048, 512, [1, 2, 4, 16, 64, 256, 1000], 16, 2, 256, [1, 16], 4096, 16, 32, 128, [1, 16]);

    public static readonly BenchSizes Tiny = new(1L << 16, 48, 32, [1, 3, 20], [2], 20, 24, 3, [1, 5], 32, 16, [1, 4], 4, 2, 12, [1, 2], 40, 2, 4, 8, [1, 2]);
}
