using Fse.Kernels;
using Fse.Kernels.Cpu;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;
using Fse.Runtime.Moe;
using Fse.Runtime.Tests.Models;

namespace Fse.Runtime.Tests.Moe;

/// <summary>The failure cases SEMANTICS.md §2 says FSE must make impossible, and the MoE function itself in float64.</summary>
public class FseSemanticsTests
{
    private static (Tensor Ids, Tensor Weights, int[] IdValues, float[] WeightValues) Route(CausalLm model, MoeBlock block, float[] x, int tokens)
    {
        var b = model.Backend;
        using var xt = b.Upload(x, tokens, model.Config.HiddenSize);
        var (ids, w) = block.Router.Route(b, xt);
        var iv = new int[ids.ElementCount];
        var wv = new float[w.ElementCount];
        b.Download(ids, iv);
        b.Download(w, wv);
        return (ids, w, iv, wv);
    }

    [Theory]
    [MemberData(nameof(TinyConfigs.Names), MemberType = typeof(TinyConfigs))]
    public void FseOnRoutesTheSharedExpertIntoSlotsAfterTopK(string arch)
    {
        var c = TinyConfigs.ByName(arch);
        using var source = new RandomCheckpoint(c, seed: 41);
        using var model = CausalLm.Load(c, source, new CpuBackend(), FseMode.On);
        var rng = new Random(1);
        int tokens = 6, k = c.NumExpertsPerTok, e = c.NumExperts, s = c.SharedExpertSlots;
        Assert.True(s >= 1);
        var x = Enumerable.Range(0, tokens * c.HiddenSize).Select(_ => RandomCheckpoint.Gaussian(rng)).ToArray();
        foreach (var block in model.MoeBlocks)
        {
            Assert.Equal(k + s, block.Router.SlotsPerToken);
            Assert.Equal(e + s, block.Runner.Slots);
            Assert.False(block.Runner.RunsSharedSeparately);
            var (ids, w, iv, wv) = Route(model, block, x, tokens);
            using (ids) using (w)
            {
                Assert.Equal([tokens, k + s], ids.Shape);
                var sharedGate = c.SharedExpertGate ? source.Get($"model.layers.{block.Layer}.mlp.shared_expert_gate.weight") : null;
                for (int t = 0; t < tokens; t++)
                {
                    for (int j = 0; j < k; j++) Assert.InRange(iv[t * (k + s) + j], 0, e - 1);
                    double gate = 1.0;
                    if (sharedGate is not null)
                    {
                        double dot = 0;
                        for (int i = 0; i < c.HiddenSize; i++) dot += sharedGate[i] * (double)x[t * c.HiddenSize + i];
                        gate = 1 / (1 + Math.Exp(-dot));
                    }
                    for (int j = 0; j < s; j++)
                    {
                        Assert.Equal(e + j, iv[t * (k + s) + k + j]);
                        Assert.Equal(gate, wv[t * (k + s) + k + j], 5);
                    }
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(TinyConfigs.Names), MemberType = typeof(TinyConfigs))]
    public void FseOffRoutesOverRoutedExpertsOnly(string arch)
    {
        var c = TinyConfigs.ByName(arch);
        using var source = new RandomCheckpoint(c, seed: 42);
        using var model = CausalLm.Load(c, source, new CpuBackend(), FseMode.Off);
        var rng = new Random(2);
        int tokens = 8;
        var x = Enumerable.Range(0, tokens * c.HiddenSize).Select(_ => 3 * RandomCheckpoint.Gaussian(rng)).ToArray();
        foreach (var block in model.MoeBlocks)
        {
            Assert.Equal(c.NumExperts, block.Router.Width);
            Assert.Equal(c.NumExpertsPerTok, block.Router.SlotsPerToken);
            Assert.Equal(c.NumExperts, block.Runner.Slots);
            Assert.True(block.Runner.RunsSharedSeparately);
            var (ids, w, iv, _) = Route(model, block, x, tokens);
            ids.Dispose();
            w.Dispose();
            Assert.All(iv, id => Assert.InRange(id, 0, c.NumExperts - 1));
        }
    }

    [Fact]
    public void LoadingChangedWeightsRebuildsTheFusedGate()
    {
        var c = TinyConfigs.Qwen2Moe;
        using var source = new RandomCheckpoint(c, seed: 43);
        var x = Enumerable.Range(0, c.HiddenSize).Select(i => MathF.Sin(i + 1f)).ToArray();
        float[] SharedWeight()
        {
            using var model = CausalLm.Load(c, source, new CpuBackend(), FseMode.On);
            var (ids, w, _, wv) = Route(model, model.MoeBlocks[0], x, 1);
            ids.Dispose();
            w.Dispose();
            return wv;
        }
        var before = SharedWeight();
        string gateName = "model.layers.0.mlp.shared_expert_gate.weight";
        source.Set(gateName, source.Get(gateName).Select(v => -2 * v).ToArray());
        var after = SharedWeight();
        int k = c.NumExpertsPerTok;
        Assert.NotEqual(before[k], after[k], 4);
        double dot = source.Get(gateName).Select((v, i) => v * (double)x[i]).Sum();
        Assert.Equal(1 / (1 + Math.Exp(-dot)), after[k], 5);
    }

    [Theory]
    [InlineData("qwen2_moe", FseMode.Off)]
    [InlineData("qwen2_moe", FseMode.On)]
    [InlineData("glm4_moe", FseMode.Off)]
    [InlineData("glm4_moe", FseMode.On)]
    [InlineData("qwen3_next", FseMode.On)]
    public void MoeBlockComputesSemanticsFormulaInFloat64(string arch, FseMode fse)
    {
        var c = TinyConfigs.ByName(arch);
        using var source = new RandomCheckpoint(c, seed: 44);
        using var model = CausalLm.Load(c, source, new CpuBackend(), fse);
        var block = model.MoeBlocks[0];
        string p = $"model.layers.{block.Layer}.mlp.";
        int tokens = 5, h = c.HiddenSize;
        var rng = new Random(3);
        var x = Enumerable.Range(0, tokens * h).Select(_ => RandomCheckpoint.Gaussian(rng)).ToArray();
        using var scratch = new Scratch(model.Backend);
        var xt = scratch.Own(model.Backend.Upload(x, tokens, h));
        var output = scratch.F32(tokens, h);
        block.Forward(xt, output, scratch, null);
        var got = new float[tokens * h];
        model.Backend.Download(output, got);

        var gate = source.Get(p + "gate.weight");
        for (int t = 0; t < tokens; t++)
        {
            var xs = x.AsSpan(t * h, h).ToArray();
            var logits = Enumerable.Range(0, c.NumExperts).Select(e => Dot(gate, e * h, xs)).ToArray();
            int[] chosen;
            double[] weights;
            if (c.Scoring == RouterScoring.Softmax)
            {
                var pr = Kernels(logits);
                chosen = Enumerable.Range(0, c.NumExperts).OrderByDescending(e => pr[e]).ThenBy(e => e).Take(c.NumExpertsPerTok).ToArray();
                weights = chosen.Select(e => pr[e]).ToArray();
                if (c.NormTopkProb) { double s = weights.Sum(); weights = weights.Select(w => w / s).ToArray(); }
            }
            else
            {
                var bias = source.Get(p + "gate.e_score_correction_bias");
                var scores = logits.Select(l => 1 / (1 + Math.Exp(-l))).ToArray();
                var choice = scores.Select((s, e) => s + bias[e]).ToArray();
                int per = c.NumExperts / c.NGroup;
                var gs = Enumerable.Range(0, c.NGroup).Select(g => choice.Skip(g * per).Take(per).OrderDescending().Take(2).Sum()).ToArray();
                var kept = Enumerable.Range(0, c.NGroup).OrderByDescending(g => gs[g]).ThenBy(g => g).Take(c.TopkGroup).ToHashSet();
                var masked = choice.Select((v, e) => kept.Contains(e / per) ? v : double.NegativeInfinity).ToArray();
                chosen = Enumerable.Range(0, c.NumExperts).OrderByDescending(e => masked[e]).ThenBy(e => e).Take(c.NumExpertsPerTok).ToArray();
                weights = chosen.Select(e => scores[e]).ToArray();
                if (c.NormTopkProb) { double s = weights.Sum() + 1e-20; weights = weights.Select(w => w / s).ToArray(); }
                weights = weights.Select(w => w * c.RoutedScalingFactor).ToArray();   // rsf on routed slots only
            }
            var want = new double[h];
            for (int j = 0; j < chosen.Length; j++)
            {
                var y = Mlp(source, $"{p}experts.{chosen[j]}.", xs, c.MoeIntermediateSize);
                for (int i = 0; i < h; i++) want[i] += weights[j] * y[i];
            }
            var shared = Mlp(source, p + (c.Scoring == RouterScoring.Softmax ? "shared_expert." : "shared_experts."), xs, c.SharedExpertIntermediateSize);
            double sg = c.SharedExpertGate ? 1 / (1 + Math.Exp(-Dot(source.Get(p + "shared_expert_gate.weight"), 0, xs))) : 1.0;
            for (int i = 0; i < h; i++) want[i] += sg * shared[i];
            for (int i = 0; i < h; i++) Assert.True(Math.Abs(want[i] - got[t * h + i]) < 1e-4, $"token {t} dim {i}: want {want[i]}, got {got[t * h + i]}");
        }
    }

    private static double[] Kernels(double[] logits)
    {
        double max = logits.Max();
        var e = logits.Select(l => Math.Exp(l - max)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    private static double Dot(float[] w, int offset, float[] x)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += w[offset + i] * (double)x[i];
        return s;
    }

    private static double[] Mlp(RandomCheckpoint source, string prefix, float[] x, int width)
    {
        var g = source.Get(prefix + "gate_proj.weight");
        var u = source.Get(prefix + "up_proj.weight");
        var d = source.Get(prefix + "down_proj.weight");
        int h = x.Length;
        var act = new double[width];
        for (int r = 0; r < width; r++)
        {
            double gv = Dot(g, r * h, x), uv = Dot(u, r * h, x);
            act[r] = gv / (1 + Math.Exp(-gv)) * uv;
        }
        var y = new double[h];
        for (int i = 0; i < h; i++)
            for (int r = 0; r < width; r++) y[i] += d[i * width + r] * act[r];
        return y;
    }
}
