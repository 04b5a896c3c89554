using Fse.Kernels.Cpu;
using Fse.Runtime.Models;
using Fse.Runtime.Moe;
using Fse.Runtime.Tests.Models;

namespace Fse.Runtime.Tests.Demo;

/// <summary>
/// The test-only switch that recreates SEMANTICS.md §2's first failure: FSE on, the shared expert loaded into its
/// slots, but the routing returns [T, k] and nothing runs it. The accuracy test uses it; here its shape and its
/// effect are pinned down on random weights of every family with a shared expert.
/// </summary>
public class DroppedSharedSlotTests
{
    [Theory]
    [MemberData(nameof(TinyConfigs.Names), MemberType = typeof(TinyConfigs))]
    public void TheSharedExpertSilentlyDropsOutAndTheOutputChanges(string arch)
    {
        var c = TinyConfigs.ByName(arch);
        using var source = new RandomCheckpoint(c, seed: 17);
        using var off = CausalLm.Load(c, source, new CpuBackend(), FseMode.Off);
        using var on = CausalLm.Load(c, source, new CpuBackend(), FseMode.On);
        using var dropped = CausalLm.Load(c, source, new CpuBackend(), FseMode.On, new WeightPlanOptions { DropSharedExpertSlots = true });
        int k = c.NumExpertsPerTok, e = c.NumExperts, s = c.SharedExpertSlots;
        Assert.True(s >= 1);
        foreach (var block in dropped.MoeBlocks)
        {
            Assert.Equal(k, block.Router.SlotsPerToken);
            Assert.Equal(0, block.Router.SharedSlots);
            Assert.Equal(e, block.Router.Width);
            Assert.Equal(e + s, block.Runner.Slots);            // the shared expert's weights are there ...
            Assert.False(block.Runner.RunsSharedSeparately);     // ... and nothing runs them beside the routed experts
        }

        var tokens = ModelHarness.RandomTokens(9, c.VocabSize, seed: 5);
        var routed = new RoutingRecorder();
        var a = ModelHarness.Prefill(off, tokens);
        var b = ModelHarness.Prefill(on, tokens);
        var d = new Fse.Runtime.Inference.Generator(dropped).Logits(tokens, routed);
        Assert.All(routed.Ids, id => Assert.InRange(id, 0, e - 1));
        Assert.Equal(dropped.MoeBlocks.Count * tokens.Length * k, routed.Ids.Count);
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.True(ModelHarness.RelativeL2(b[i], a[i]) < 1e-5, $"FSE on differs from off at {i}");
            Assert.True(ModelHarness.RelativeL2(d[i], a[i]) > 1e-3, $"dropping the shared slots left position {i} unchanged");
        }
    }

    private sealed class RoutingRecorder : IRoutingObserver
    {
        public List<int> Ids { get; } = [];

        public void OnRouted(int layer, int[] ids, float[] weights, int slotsPerToken) => Ids.AddRange(ids);
    }
}
