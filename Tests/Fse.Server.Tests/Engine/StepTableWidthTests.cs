using Fse.Runtime.Checkpoints;
using Fse.Runtime.Models;
using Fse.Runtime.Presets;
using Fse.Runtime.Serving;

namespace Fse.Server.Tests.Engine;

/// <summary>The block-table width of the engine's steps, which keys a recorded decode step.</summary>
public class StepTableWidthTests
{
    private static readonly ModelConfig Next12 = ModelPresets.Get(ModelPresets.Qwen3Next80B).Config(12);

    [Fact]
    public void ADecodingSequenceChangesWidthOnlyWhenItsBlocksDouble()
    {
        var options = new EngineOptions { MaxModelLen = 2048, BlockSize = 16 };
        // ISL 1000, OSL 100: positions 1000 … 1099 span blocks 63 … 69; two widths instead of seven.
        var widths = Enumerable.Range(1000, 100).Select(p => options.StepTableWidth(p / 16 + 1, Next12)).Distinct().ToArray();
        Assert.Equal([64, 128], widths);
        for (int blocks = 1; blocks <= options.BlocksPerSequence(Next12); blocks++)
        {
            int w = options.StepTableWidth(blocks, Next12);
            Assert.InRange(w, blocks, 2 * blocks);
        }
    }

    [Theory]
    [InlineData(1920, 100, 120)]   // capped at a sequence's most blocks (max-model-len 1920 = 120 blocks)
    [InlineData(1920, 120, 120)]
    [InlineData(2048, 65, 128)]
    [InlineData(2048, 1, 1)]
    [InlineData(2048, 129, 129)]   // a table never narrower than its longest sequence
    public void TheWidthIsThePowerOfTwoAtMostASequencesBlocks(int maxModelLen, int blocks, int width) =>
        Assert.Equal(width, new EngineOptions { MaxModelLen = maxModelLen }.StepTableWidth(blocks, Next12));

    [Fact]
    public void ANegativeBlockCountIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new EngineOptions { MaxModelLen = 2048 }.StepTableWidth(-1, Next12));
}
