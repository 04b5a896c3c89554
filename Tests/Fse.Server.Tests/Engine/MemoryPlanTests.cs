using Fse.Runtime;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;
using Fse.Runtime.Presets;
using Fse.Runtime.Serving;

namespace Fse.Server.Tests.Engine;

public class MemoryPlanTests
{
    private static readonly ModelConfig Next12 = ModelPresets.Get(ModelPresets.Qwen3Next80B).Config(12);
    private static readonly EngineOptions Serving = new() { MaxNumSeqs = 64, MaxModelLen = 2048, MaxNumBatchedTokens = 8192 };

    [Fact]
    public void AnH100HoldsTwelveLayersOfQwen3NextAndGivesTheRestToTheKvCache()
    {
        var plan = MemoryPlan.Create(Next12, FseMode.On, Serving, 80L << 30, 0.9);
        Assert.Equal(ParameterCount.Bytes(Next12), plan.WeightBytes);   // shared width 512 = expert width: one slot, no padding
        Assert.InRange(plan.WeightBytes / 1e9, 40, 42);
        Assert.Equal(64 * ModelState.BytesPerStateSlot(Next12), plan.StateBytes);
        Assert.True(plan.WeightBytes + plan.StateBytes + plan.WorkspaceBytes + plan.KvBytes <= plan.BudgetBytes);
        Assert.Equal(plan.KvBytes, plan.NumBlocks * ModelState.BytesPerBlock(Next12, Serving.BlockSize));
        Assert.Equal(Serving.BlocksPerSequence(Next12) * 64, plan.NumBlocks);   // all 64 sequences at full length fit: capped there
    }

    [Fact]
    public void ACardTooSmallIsRefusedWithTheBreakdown()
    {
        var e = Assert.Throws<MemoryPlanException>(() => MemoryPlan.Create(Next12, FseMode.On, Serving, 24L << 30, 0.9));
        Assert.Contains("Out of memory", e.Message);
        Assert.Contains("weights (40.", e.Message);
        Assert.Contains("--gpu-memory-utilization", e.Message);
    }

    [Fact]
    public void KvBlocksShrinkToWhatTheBudgetLeaves()
    {
        var wide = Serving with { MaxModelLen = 65536, MaxNumSeqs = 128 };
        var plan = MemoryPlan.Create(Next12, FseMode.Off, wide, 80L << 30, 0.9);
        Assert.True(plan.NumBlocks < wide.BlocksPerSequence(Next12) * 128);
        Assert.True(plan.NumBlocks >= wide.BlocksPerSequence(Next12));
        long perBlock = ModelState.BytesPerBlock(Next12, wide.BlockSize);
        Assert.True(plan.BudgetBytes - plan.WeightBytes - plan.StateBytes - plan.WorkspaceBytes - plan.KvBytes < perBlock);
    }

    [Fact]
    public void FseCountsThePaddingOfSharedExpertSlots()
    {
        // tiny-qwen2-moe: shared width 80 in slots of 32 → 3 slots, 16 columns of zero padding, and two more gate rows.
        var c = ModelPresets.Get(ModelPresets.TinyQwen2Moe).Config();
        int moe = Enumerable.Range(0, c.NumLayers).Count(i => c.FeedForwardOf(i) == FeedForwardKind.Moe);
        long extra = moe * (3L * c.HiddenSize * (3 * c.MoeIntermediateSize - c.SharedExpertIntermediateSize) + 2L * c.HiddenSize) * c.BytesPerElement;
        Assert.Equal(3, c.SharedExpertSlots);
        Assert.Equal(MemoryPlan.WeightsOf(c, FseMode.Off) + extra, MemoryPlan.WeightsOf(c, FseMode.On));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void TheUtilizationMustBeAFraction(double u) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => MemoryPlan.Create(Next12, FseMode.On, Serving, 80L << 30, u));
}
