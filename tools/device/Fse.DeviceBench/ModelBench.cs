using System.Diagnostics;
using System.Globalization;
using System.Text;
using Fse.Kernels;
using Fse.Kernels.Cuda;
using Fse.Kernels.Profiling;
using Fse.Runtime;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Inference;
using Fse.Runtime.Models;
using Fse.Runtime.Presets;

namespace Fse.DeviceBench;

/// <summary>
/// Whole-model timings on one backend: a preset's random weights generated in host memory once and loaded per FSE mode,
/// then TTFT (one ISL-token prefill) and decode TPOT at several batch sizes, each sequence at context ISL. Batch-1
/// bandwidth is the bytes a decode step must read (weights a token touches plus its KV) over the step time.
/// </summary>
internal static class ModelBench
{
    public sealed record Settings(string Preset, int? Layers, int Isl, int Osl, int[] Batches, double CopyTbPerSecond, DeltaRuleForm DeltaRule = DeltaRuleForm.Auto);

    public static string Run(Func<IBackend> backend, Settings s)
    {
        var table = new StringBuilder();
        using var source = new PresetSource(s.Preset, s.Layers, seed: 0);
        var c = source.Config;
        var sw = new Stopwatch();
        var results = new Dictionary<(FseMode, int), (double Tpot, double Ttft)>();
        double sampledTpot = 0;
        foreach (var fse in new[] { FseMode.Off, FseMode.On })
        {
            using var b = backend();
            sw.Restart();
            using var model = CausalLm.Load(c, source, b, fse);
            model.DeltaRuleForm = s.DeltaRule;
            b.Synchronize();
            Console.WriteLine($"FSE {fse}: loaded in {sw.Elapsed.TotalSeconds:F1} s on {b.Name}, weight matrices drawn in device memory; " +
                $"{source.BytesGenerated / 1e6:F1} MB of small tensors generated on the host");
            double ttft = Ttft(model, s.Isl);
            foreach (int batch in s.Batches)
            {
                double tpot = Decode(model, batch, s.Isl, s.Osl, deviceStep: out var deviceStep);
                results[(fse, batch)] = (tpot, ttft);
                Console.WriteLine($"FSE {fse} B={batch}: TPOT {tpot:F3} ms, {batch / tpot * 1000:F0} tok/s (TTFT {ttft:F1} ms)" + GraphNote(b) + (deviceStep is { } d ? $"; step graph on the device {d.TotalMilliseconds:F3} ms" : ""));
            }
            if (fse == FseMode.On) sampledTpot = Decode(model, s.Batches[0], s.Isl, s.Osl, greedy: false);
        }
        double stepBytes = BytesPerDecodeStep(c, s.Isl);
        double floorMs = stepBytes / (s.CopyTbPerSecond * 1e12) * 1e3;
        table.AppendLine($"model: {s.Preset}, {c.NumLayers} layers, {c.DType}; ISL {s.Isl}, OSL {s.Osl}; batch-1 step reads {stepBytes / 1e9:F2} GB, floor {floorMs:F3} ms at {s.CopyTbPerSecond:F2} TB/s");
        table.AppendLine("| batch | TPOT off (ms) | TPOT on (ms) | Δ TPOT | tok/s off | tok/s on | Δ tok/s | FSE-on bandwidth (TB/s, % of copy) |");
        table.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (int batch in s.Batches)
        {
            var off = results[(FseMode.Off, batch)];
            var on = results[(FseMode.On, batch)];
            double bw = BytesPerDecodeStep(c, s.Isl, batch) / (on.Tpot / 1e3) / 1e12;
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {batch} | {off.Tpot:F3} | {on.Tpot:F3} | {Pct(on.Tpot, off.Tpot)} | {batch / off.Tpot * 1e3:F0} | {batch / on.Tpot * 1e3:F0} | {Pct(batch / on.Tpot, batch / off.Tpot)} | {bw:F2} ({bw / s.CopyTbPerSecond:P0}) |"));
        }
        var t1 = results[(FseMode.On, s.Batches[0])];
        table.AppendLine($"TTFT (ISL {s.Isl}, batch 1): off {results[(FseMode.Off, s.Batches[0])].Ttft:F1} ms, on {t1.Ttft:F1} ms; batch-1 TPOT on / floor = {t1.Tpot / floorMs:F2}x");
        table.AppendLine($"TPOT above: greedy steps, next tokens taken on the device; batch {s.Batches[0]} FSE on with every row of logits downloaded (sampling): {sampledTpot:F3} ms");
        return table.ToString();
    }

    /// <summary>The last recorded step's programmatic edges, and why the last unrecordable step failed (CUDA only).</summary>
    private static string GraphNote(IBackend b) => b is CudaBackend cuda
        ? $"; last step graph: {cuda.ProgrammaticEdges} programmatic edges" +
          (cuda.LastStepGraphFailure is { } failed ? $"; not recorded: {failed}" : "")
        : "";

    /// <summary>
    /// Where the time goes, FSE on: every op of one ISL-token prefill and of <paramref name="decodeSteps"/> decode steps
    /// per batch size timed to completion under a <see cref="ProfilingBackend"/>, with the un-profiled step time beside it.
    /// </summary>
    public static string Profile(Func<IBackend> backend, Settings s, int decodeSteps = 10)
    {
        var report = new StringBuilder();
        using var source = new PresetSource(s.Preset, s.Layers, seed: 0);
        var c = source.Config;
        var profiler = new ProfilingBackend(backend());
        using var model = CausalLm.Load(c, source, profiler, FseMode.On);
        model.DeltaRuleForm = s.DeltaRule;
        profiler.Synchronize();
        profiler.Reset();
        report.AppendLine(profiler.DeviceTimes
            ? "Op times are device times between CUDA events around each op; ops run asynchronously as usual."
            : "Op times are host times of each op to completion (synchronised after every op).");
        report.AppendLine();
        double ttft = Ttft(model, s.Isl);
        // The warm-up prefill inside Prefill is profiled too; start over for the timed one.
        Prefill(model, 1, s.Isl, out var once);
        once.Dispose();
        profiler.Reset();
        double profiled = Prefill(model, 1, s.Isl, out once);
        once.Dispose();
        Append(report, $"prefill, one {s.Isl}-token sequence: TTFT {ttft:F1} ms un-profiled (median of 3 after a warm-up), {profiled:F1} ms profiled", profiler.Timings, 1);
        foreach (int batch in s.Batches)
        {
            double step = Decode(model, batch, s.Isl, decodeSteps, afterPrefill: profiler.Reset);
            Append(report, $"decode, batch {batch}: {step:F3} ms per step under the profiler (mean of {decodeSteps})", profiler.Timings, decodeSteps + 3);
        }
        return report.ToString();
    }

    /// <summary>
    /// Step graphs against eager steps, FSE on: per batch size, two identical states prefilled with the same prompts, then
    /// greedy decode steps fed the same tokens, one state replaying recorded steps and the other running every op. Logits
    /// must agree (relative L2 ≤ 1e-4, same argmax); the table gives both step times.
    /// </summary>
    public static (string Report, int Failures) GraphCheck(Func<IBackend> backend, Settings s, int steps = 40)
    {
        var report = new StringBuilder();
        int failures = 0;
        using var source = new PresetSource(s.Preset, s.Layers, seed: 0);
        var c = source.Config;
        using var b = backend();
        using var model = CausalLm.Load(c, source, b, FseMode.On);
        model.DeltaRuleForm = s.DeltaRule;
        var cuda = b as CudaBackend;
        report.AppendLine($"step graphs vs eager steps: {s.Preset}, {c.NumLayers} layers, FSE on, context {s.Isl}, {steps} greedy steps after 3 warm-up steps");
        report.AppendLine("| batch | eager ms/step | graph ms/step | speed-up | max rel L2 | argmax agree | replays |");
        report.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (int batch in s.Batches)
        {
            Prefill(model, batch, s.Isl, out var eagerState);
            Prefill(model, batch, s.Isl, out var graphState);
            using (eagerState)
            using (graphState)
            {
                const int blockSize = 16;
                int perSeq = eagerState.Blocks / batch, v = c.VocabSize;
                var table = Enumerable.Range(0, batch * perSeq).ToArray();
                var rows = Enumerable.Range(0, batch).ToArray();
                var eager = new float[batch * v];
                var graph = new float[batch * v];
                var tokens = rows.Select(r => r + 1).ToArray();
                double eagerMs = 0, graphMs = 0, worst = 0;
                int agree = 0;
                long replaysBefore = cuda?.StepGraphReplays ?? 0;
                for (int step = 0; step < steps + 3; step++)
                {
                    var positions = rows.Select(_ => s.Isl + step).ToArray();
                    SequenceBatch Batch() => new(Enumerable.Range(0, batch + 1).ToArray(), positions, table, perSeq, blockSize, rows, new bool[batch]);
                    if (cuda is not null) cuda.Options = cuda.Options with { StepGraphs = false };
                    var sw = Stopwatch.StartNew();
                    model.Forward(tokens, Batch(), eagerState, rows, eager);
                    double e = sw.Elapsed.TotalMilliseconds;
                    if (cuda is not null) cuda.Options = cuda.Options with { StepGraphs = true };
                    sw.Restart();
                    model.Forward(tokens, Batch(), graphState, rows, graph);
                    double g = sw.Elapsed.TotalMilliseconds;
                    if (step >= 3)
                    {
                        eagerMs += e;
                        graphMs += g;
                    }
                    for (int q = 0; q < batch; q++)
                    {
                        var a = eager.AsSpan(q * v, v);
                        var d = graph.AsSpan(q * v, v);
                        worst = Math.Max(worst, Measure.RelativeError(d, a));
                        int argA = Sampler.ArgMax(a), argD = Sampler.ArgMax(d);
                        if (argA == argD) agree++;
                        tokens[q] = argA;
                    }
                }
                long replays = (cuda?.StepGraphReplays ?? 0) - replaysBefore;
                bool ok = worst <= 1e-4 && agree == batch * (steps + 3);
                if (!ok) failures++;
                report.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {batch} | {eagerMs / steps:F3} | {graphMs / steps:F3} | {eagerMs / graphMs:F2}x | {worst:E1} | {agree}/{batch * (steps + 3)}{(ok ? "" : " FAIL")} | {replays} |"));
            }
        }
        if (cuda?.LastStepGraphFailure is { } why) report.AppendLine($"last step that could not be recorded: {why}");
        return (report.ToString(), failures);
    }

    private static void Append(StringBuilder report, string title, IReadOnlyList<OpTiming> timings, int steps)
    {
        double total = timings.Sum(t => t.TotalMs) / steps, host = timings.Sum(t => t.HostMs) / steps;
        report.AppendLine($"### {title}; ops sum to {total:F3} ms per step, {host:F3} ms of host time in the ops");
        report.AppendLine("| op | calls/step | ms/step | µs/call | host µs/call | share |");
        report.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var t in timings.Take(18))
            report.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {t.Op} | {(double)t.Calls / steps:0.#} | {t.TotalMs / steps:F3} | {t.MeanUs:F1} | {t.MeanHostUs:F1} | {t.TotalMs / steps / total:P0} |"));
        report.AppendLine();
    }

    private static string Pct(double candidate, double baseline) => string.Create(CultureInfo.InvariantCulture, $"{(candidate / baseline - 1) * 100:+0.0;-0.0}%");

    /// <summary>
    /// TTFT as the HF reference script measures it: one <paramref name="isl"/>-token prefill to warm up (scratch buffers,
    /// cuBLAS heuristics), then the median of three.
    /// </summary>
    private static double Ttft(CausalLm model, int isl)
    {
        var runs = new double[4];
        for (int i = 0; i < runs.Length; i++)
        {
            runs[i] = Prefill(model, 1, isl, out var state);
            state.Dispose();
        }
        Array.Sort(runs, 1, 3);
        return runs[2];
    }

    /// <summary>
    /// Prefills <paramref name="sequences"/> sequences of <paramref name="isl"/> random tokens, up to 8 sequences per forward
    /// step; returns the ms per step divided by the sequences in it (for one sequence: its TTFT).
    /// </summary>
    private static double Prefill(CausalLm model, int sequences, int isl, out ModelState state)
    {
        const int blockSize = 16, perStep = 8;
        int perSeq = (isl + 2048 + blockSize - 1) / blockSize;
        state = new ModelState(model.Config, model.Backend, perSeq * sequences, blockSize, sequences);
        var table = Enumerable.Range(0, perSeq * sequences).ToArray();
        var rng = new Random(7);
        var logits = new float[perStep * model.Config.VocabSize];
        // A short warm-up prefill so first-use costs (cuBLAS handles, scratch growth) stay out of the timing.
        model.Forward(Enumerable.Range(1, 16).ToArray(), new SequenceBatch([0, 16], [.. Enumerable.Range(0, 16)], table[..perSeq], perSeq, blockSize, [0], [true]), state, [15], logits);
        model.Backend.Synchronize();
        var sw = new Stopwatch();
        for (int first = 0; first < sequences; first += perStep)
        {
            int n = Math.Min(perStep, sequences - first);
            var tokens = Enumerable.Range(0, n * isl).Select(_ => rng.Next(model.Config.VocabSize)).ToArray();
            var starts = Enumerable.Range(0, n + 1).Select(q => q * isl).ToArray();
            var positions = Enumerable.Range(0, n * isl).Select(t => t % isl).ToArray();
            var slots = Enumerable.Range(first, n).ToArray();
            var rows = Enumerable.Range(1, n).Select(q => q * isl - 1).ToArray();
            var seqTable = slots.SelectMany(q => table.Skip(q * perSeq).Take(perSeq)).ToArray();
            var batch = new SequenceBatch(starts, positions, seqTable, perSeq, blockSize, slots, Enumerable.Repeat(true, n).ToArray());
            sw.Start();
            model.Forward(tokens, batch, state, rows, logits);
            model.Backend.Synchronize();
            sw.Stop();
        }
        return sw.Elapsed.TotalMilliseconds / sequences;
    }

    /// <summary>
    /// Mean decode step time (ms) for <paramref name="batch"/> sequences at context <paramref name="isl"/>: greedy steps that
    /// take the next tokens on the device (<see cref="CausalLm.ForwardGreedy"/>, what fse-server does for the temperature-0
    /// requests of the benchmark client), or with <paramref name="greedy"/> false steps that download every row of logits
    /// (what sampled requests need). <paramref name="deviceStep"/>: the last step graph's device time, replayed back to back
    /// before the state goes (CUDA only; a step's time less the host's share).
    /// </summary>
    private static double Decode(CausalLm model, int batch, int isl, int osl, Action? afterPrefill = null, bool greedy = true) =>
        Decode(model, batch, isl, osl, out _, afterPrefill, greedy);

    private static double Decode(CausalLm model, int batch, int isl, int osl, out TimeSpan? deviceStep, Action? afterPrefill = null, bool greedy = true)
    {
        Prefill(model, batch, isl, out var state);
        afterPrefill?.Invoke();
        using (state)
        {
            const int blockSize = 16;
            int perSeq = state.Blocks / batch, v = model.Config.VocabSize;
            var table = Enumerable.Range(0, batch * perSeq).ToArray();
            var logits = greedy ? [] : new float[batch * v];
            var next = new int[batch];
            var rng = new Random(3);
            var rows = Enumerable.Range(0, batch).ToArray();
            var slots = Enumerable.Range(0, batch).ToArray();
            double total = 0;
            const int warm = 3;
            for (int step = 0; step < osl + warm; step++)
            {
                var tokens = rows.Select(_ => rng.Next(v)).ToArray();
                var starts = Enumerable.Range(0, batch + 1).ToArray();
                var positions = rows.Select(_ => isl + step).ToArray();
                var sb = new SequenceBatch(starts, positions, table, perSeq, blockSize, slots, new bool[batch]);
                var sw = Stopwatch.StartNew();
                if (greedy) model.ForwardGreedy(tokens, sb, state, rows, next);
                else model.Forward(tokens, sb, state, rows, logits);
                if (step >= warm) total += sw.Elapsed.TotalMilliseconds;
            }
            deviceStep = (model.Backend as CudaBackend)?.MeasureLastStepGraph(50);
            return total / osl;
        }
    }

    /// <summary>
    /// Bytes a decode step reads at <paramref name="batch"/>: every non-expert weight once, the expected number of distinct
    /// routed experts (E·(1 − (1 − k/E)^B) per MoE layer) plus the shared expert, and each sequence's KV cache and state.
    /// </summary>
    public static double BytesPerDecodeStep(ModelConfig c, int context, int batch = 1)
    {
        double total = 0;
        foreach (var t in TensorManifest.Expected(c))
        {
            double bytes = t.ElementCount * (t.DType?.BytesPerElement() ?? c.BytesPerElement);
            if (t.Expert is not null)
                bytes *= 1 - Math.Pow(1 - (double)c.NumExpertsPerTok / c.NumExperts, batch);
            else if (t.Name == "model.embed_tokens.weight" && !c.TieWordEmbeddings)
                bytes = (double)batch * c.HiddenSize * c.BytesPerElement;
            total += bytes;
        }
        int full = c.LayerTypes.Count(t => t == AttentionKind.Full);
        total += (double)batch * full * 2 * context * c.NumKvHeads * c.HeadDim * sizeof(float);
        total += (double)batch * ModelState.BytesPerStateSlot(c) * 2;   // read and write the recurrent state
        return total;
    }
}
