using Fse.Kernels.Cpu;
using Fse.Runtime.Inference;
using Fse.Runtime.Models;
using Fse.Runtime.Tests.Models;

namespace Fse.Runtime.Tests.Inference;

public class GeneratorTests
{
    [Theory]
    [MemberData(nameof(TinyConfigs.Names), MemberType = typeof(TinyConfigs))]
    public void GreedyGenerationMatchesArgmaxOfFullRecomputation(string arch)
    {
        var c = TinyConfigs.ByName(arch);
        using var source = new RandomCheckpoint(c, seed: 51);
        using var model = CausalLm.Load(c, source, new CpuBackend(), FseMode.On);
        var g = new Generator(model, blockSize: 4);
        var prompt = ModelHarness.RandomTokens(6, c.VocabSize, seed: 9);
        var streamed = new List<int>();
        var r = g.Generate(prompt, 7, SamplingParams.Greedy, [], streamed.Add);
        Assert.Equal("length", r.FinishReason);
        Assert.Equal(7, r.TokenIds.Length);
        Assert.Equal(r.TokenIds, streamed);
        var seq = prompt.ToList();
        foreach (var tok in r.TokenIds)
        {
            var logits = g.Logits([.. seq]);
            Assert.Equal(Sampler.ArgMax(logits[^1]), tok);
            seq.Add(tok);
        }
    }

    [Fact]
    public void AStopTokenEndsGenerationAndIsKept()
    {
        var c = TinyConfigs.Qwen2Moe;
        using var source = new RandomCheckpoint(c, seed: 52);
        using var model = CausalLm.Load(c, source, new CpuBackend(), FseMode.Off);
        var g = new Generator(model);
        var prompt = ModelHarness.RandomTokens(5, c.VocabSize, seed: 1);
        var free = g.Generate(prompt, 6, SamplingParams.Greedy, []);
        var stop = free.TokenIds[2];
        var r = g.Generate(prompt, 6, SamplingParams.Greedy, [stop]);
        Assert.Equal("stop", r.FinishReason);
        Assert.Equal(free.TokenIds.TakeWhile(t => t != stop).Append(stop), r.TokenIds);
    }
}
