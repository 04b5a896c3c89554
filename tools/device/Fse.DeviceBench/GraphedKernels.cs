using Fse.Kernels;
using Fse.Kernels.Cuda;

namespace Fse.DeviceBench;

/// <summary>
/// The weight-streaming kernels of a batch-1 decode step timed as the step sees them: each case is one recorded step graph
/// of back-to-back calls on distinct weights (more bytes than L2 holds), replayed; µs per call is the replay's time less
/// that of an almost empty step, over the calls; and a graph of almost empty kernels, whose time per kernel is what each
/// launch in a step costs before it does any work.
/// </summary>
internal static class GraphedKernels
{
    public static List<Row> Run(CudaBackend cuda, double copyTbs)
    {
        var rows = new List<Row>();
        rows.Add(new Row("graphed kernels", "empty step (one Add), subtracted below", Measure.EmptyStepMicros(cuda), "replay, wait, 4-byte download", "-"));
        using (var one = cuda.Upload([1f], 1))
        {
            double logits = Measure.StepMicros(cuda, () => cuda.Add(one, one, one), columns: 151936);
            rows.Add(new Row("graphed kernels", "empty step with a vocabulary row of logits", logits, "replay, wait, 608 KB download", "-"));
            foreach (var (edges, how) in Launches(cuda))
            {
                double adds = Measure.GraphMicros(cuda, _ => cuda.Add(one, one, one), calls: 100);
                rows.Add(new Row("graphed kernels", $"Add of 1 element, 100 in a step{how}", adds, "per kernel", "-"));
            }
        }
        foreach (var (n, k, what) in new[] { (2048, 4096, "output projection"), (513, 2048, "router + shared gate"), (9216, 2048, "attention q|k|v|gate"), (12352, 2048, "DeltaNet in_proj"), (151936, 2048, "lm head") })
            Gemv(cuda, rows, n, k, what, copyTbs);
        NormsThenGemv(cuda, rows);
        Experts(cuda, rows, copyTbs);
        ArgMax(cuda, rows);
        return rows;
    }

    private static void Gemv(CudaBackend cuda, List<Row> rows, int n, int k, string what, double copyTbs)
    {
        long bytes = 2L * n * k;
        int calls = (int)Math.Clamp(240_000_000 / bytes, 2, 48);
        var weights = Enumerable.Range(0, calls).Select(i => cuda.Upload(RandomMatrix.Whole(DType.BF16, n, k, (ulong)(7000 + i), 0.02f))).ToList();
        using var x = cuda.Upload(HostWeights.Floats(k, seed: k), 1, k);
        using var o = cuda.Allocate(DType.F32, 1, n);
        try
        {
            foreach (var (_, how) in Launches(cuda))
            {
                double us = Measure.GraphMicros(cuda, i => cuda.MatMul(x, weights[i], null, o), calls: calls);
                double tbs = bytes / us / 1e6;
                rows.Add(new Row("graphed kernels", $"GEMV bf16 {n}x{k} ({what}), T=1{how}", us, $"{tbs:F2} TB/s ({100 * tbs / copyTbs:F0}%)", "-"));
            }
        }
        finally
        {
            foreach (var w in weights) w.Dispose();
        }
    }

    /// <summary>
    /// The step's edges plain, then programmatic (<see cref="CudaBackendOptions.ProgrammaticLaunch"/>), each yielded
    /// with the options set and a label for the case; the options restored after.
    /// </summary>
    private static IEnumerable<(bool Programmatic, string Label)> Launches(CudaBackend cuda)
    {
        var saved = cuda.Options;
        try
        {
            foreach (bool programmatic in new[] { false, true })
            {
                cuda.Options = saved with { ProgrammaticLaunch = programmatic };
                yield return (programmatic, programmatic ? ", programmatic edges" : ", plain edges");
            }
        }
        finally
        {
            cuda.Options = saved;
        }
    }

    /// <summary>
    /// Four 2048-wide RMSNorms (kernels that leave memory idle) and then the 2048×4096 output-projection GEMV, on distinct
    /// weights each call: with programmatic edges the GEMV is launched during the norms and hints its rows into L2.
    /// </summary>
    private static void NormsThenGemv(CudaBackend cuda, List<Row> rows)
    {
        const int n = 2048, k = 4096, calls = 24;
        var weights = Enumerable.Range(0, calls).Select(i => cuda.Upload(RandomMatrix.Whole(DType.BF16, n, k, (ulong)(7100 + i), 0.02f))).ToList();
        using var x = cuda.Upload(HostWeights.Floats(k, seed: 3), 1, k);
        using var normed = cuda.Allocate(DType.F32, 1, k);
        using var g = cuda.Upload(HostWeights.Floats(k, seed: 4), k);
        using var o = cuda.Allocate(DType.F32, 1, n);
        try
        {
            foreach (var (_, how) in Launches(cuda))
                foreach (int norms in new[] { 1, 4 })
                    foreach (bool gemv in new[] { false, true })
                    {
                        double us = Measure.GraphMicros(cuda, i =>
                        {
                            for (int r = 0; r < norms; r++) cuda.RmsNorm(r == 0 ? x : normed, g, normed, 1e-6f, unitOffset: false);
                            if (gemv) cuda.MatMul(normed, weights[i], null, o);
                        }, calls: calls);
                        rows.Add(new Row("graphed kernels", $"{norms} RMSNorms (4096){(gemv ? $" then GEMV bf16 {n}x{k}" : "")}{how}", us, "per call", "-"));
                    }
        }
        finally
        {
            foreach (var w in weights) w.Dispose();
        }
    }

    /// <summary>The Qwen3-Next expert pass at one token: 10 routed + 1 shared slot of 512 + 1 experts, H=2048, I=512.</summary>
    private static void Experts(CudaBackend cuda, List<Row> rows, double copyTbs)
    {
        const int experts = 512, h = 2048, inter = 512, topK = 10, calls = 24;
        var slots = Enumerable.Range(0, experts + 1).Select(s => new ExpertSlot(
            RandomMatrix.Whole(DType.BF16, inter, h, (ulong)(9000 + 3 * s), 0.05f),
            RandomMatrix.Whole(DType.BF16, inter, h, (ulong)(9001 + 3 * s), 0.05f),
            RandomMatrix.Whole(DType.BF16, h, inter, (ulong)(9002 + 3 * s), 0.05f))).ToArray();
        using var set = cuda.CreateExpertSet(slots);
        using var x = cuda.Upload(HostWeights.Floats(h, seed: 77), 1, h);
        using var o = cuda.Allocate(DType.F32, 1, h);
        // Each call its own distinct experts, so no call finds another's weights in L2.
        var rng = new Random(5);
        var ids = Enumerable.Range(0, calls).Select(_ =>
            cuda.Upload([.. Enumerable.Range(0, experts).OrderBy(_ => rng.Next()).Take(topK), experts], 1, topK + 1)).ToList();
        using var w = cuda.Upload(HostWeights.Floats(topK + 1, seed: 78), 1, topK + 1);
        long bytes = 3L * inter * h * 2 * (topK + 1);
        var saved = cuda.Options;
        try
        {
            foreach (bool single in new[] { false, true })
                foreach (bool programmatic in new[] { false, true })
                {
                    cuda.Options = saved with { MoeSingleTokenDown = single, ProgrammaticLaunch = programmatic };
                    double us = Measure.GraphMicros(cuda, i => cuda.MoeExperts(x, ids[i], w, set, o), calls: calls);
                    double tbs = bytes / us / 1e6;
                    string how = (single ? "down pass loading every slot at once" : "down pass four slots a round") + (programmatic ? ", programmatic edges" : ", plain edges");
                    rows.Add(new Row("graphed kernels", $"MoeExperts E=512 k=10 +1 shared, T=1, {how}", us, $"{tbs:F2} TB/s ({100 * tbs / copyTbs:F0}%)", "-"));
                }
        }
        finally
        {
            cuda.Options = saved;
            foreach (var id in ids) id.Dispose();
        }
    }

    /// <summary>Greedy choice over one and over four rows of a Qwen vocabulary, one group per row against rows in parts.</summary>
    private static void ArgMax(CudaBackend cuda, List<Row> rows)
    {
        const int vocab = 151936;
        var saved = cuda.Options;
        try
        {
            foreach (int n in new[] { 1, 4 })
            {
                using var logits = cuda.Upload(HostWeights.Floats(n * vocab, seed: 11), n, vocab);
                using var ids = cuda.Allocate(DType.F32, n);
                foreach (bool parts in new[] { false, true })
                {
                    cuda.Options = saved with { ArgMaxInParts = parts };
                    double us = Measure.GraphMicros(cuda, _ => cuda.ArgMax(logits, ids), calls: 20);
                    rows.Add(new Row("graphed kernels", $"ArgMax {n}x{vocab}, {(parts ? "rows in parts, then a pick" : "one group per row")}", us, "per call", "-"));
                }
            }
        }
        finally
        {
            cuda.Options = saved;
        }
    }
}
