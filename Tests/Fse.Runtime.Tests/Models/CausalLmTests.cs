using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Inference;
using Fse.Runtime.Models;
using static Fse.Runtime.Tests.Models.ModelHarness;

namespace Fse.Runtime.Tests.Models;

public class CausalLmTests
{
    [Theory]
    [MemberData(nameof(TinyConfigs.Names), MemberType = typeof(TinyConfigs))]
    public void PrefillAndStepByStepDecodeAgree(string arch)
    {
        var c = TinyConfigs.ByName(arch);
        using var source = new RandomCheckpoint(c, seed: 11);
        using var model = Load(c, source, FseMode.Off);
        var tokens = RandomTokens(13, c.VocabSize, seed: 5);
        var prefill = Prefill(model, tokens);
        var decode = Decode(model, tokens);
        var chunked = Decode(model, tokens, chunk: 5);
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.True(RelativeL2(decode[i], prefill[i]) < 1e-5, $"{arch} position {i}: decode differs from prefill by {RelativeL2(decode[i], prefill[i]):E2}");
            Assert.True(RelativeL2(chunked[i], prefill[i]) < 1e-5, $"{arch} position {i}: chunked prefill differs by {RelativeL2(chunked[i], prefill[i]):E2}");
        }
        Assert.Contains(prefill, row => row.Any(v => v != 0f));
    }

    [Theory]
    [MemberData(nameof(TinyConfigs.Names), MemberType = typeof(TinyConfigs))]
    public void GreedyStepsPickTheArgMaxOfTheLogitsOnTheDevice(string arch)
    {
        var c = TinyConfigs.ByName(arch);
        using var source = new RandomCheckpoint(c, seed: 31);
        using var model = Load(c, source, FseMode.On);
        // Two sequences of 5 and 3 tokens in one step, logits wanted at three rows; the same step twice on fresh states.
        var tokens = RandomTokens(8, c.VocabSize, seed: 6);
        int[] rows = [4, 1, 7];
        SequenceBatch Batch() => new([0, 5, 8], [0, 1, 2, 3, 4, 0, 1, 2], [0, 1, 2, 3], 2, BlockSize, [0, 1], [true, true]);
        var logits = new float[rows.Length * c.VocabSize];
        var chosen = new int[rows.Length];
        using (var state = new ModelState(c, model.Backend, 4, BlockSize, 2)) model.Forward(tokens, Batch(), state, rows, logits);
        using (var state = new ModelState(c, model.Backend, 4, BlockSize, 2)) model.ForwardGreedy(tokens, Batch(), state, rows, chosen);
        var want = Split(logits, c.VocabSize).Select(r => Sampler.ArgMax(r)).ToArray();
        Assert.Equal(want, chosen);
        using (var state = new ModelState(c, model.Backend, 4, BlockSize, 2))
            Assert.Throws<ArgumentException>(() => { model.ForwardGreedy(tokens, Batch(), state, rows, new int[2]); });
    }

    [Theory]
    [MemberData(nameof(TinyConfigs.Names), MemberType = typeof(TinyConfigs))]
    public void FseOnAndOffGiveTheSameLogits(string arch)
    {
        var c = TinyConfigs.ByName(arch);
        using var source = new RandomCheckpoint(c, seed: 21);
        using var off = Load(c, source, FseMode.Off);
        using var on = Load(c, source, FseMode.On);
        var tokens = RandomTokens(9, c.VocabSize, seed: 3);
        var a = Prefill(off, tokens);
        var b = Prefill(on, tokens);
        for (int i = 0; i < tokens.Length; i++)
            Assert.True(RelativeL2(b[i], a[i]) < 1e-5, $"{arch} position {i}: FSE on differs from off by {RelativeL2(b[i], a[i]):E2}");
    }

    [Theory]
    [InlineData(DType.BF16)]
    [InlineData(DType.F16)]
    public void HalfPrecisionWeightsMatchTheirF32Widening(DType dtype)
    {
        var c = TinyConfigs.Qwen3Next;
        using var half = new RandomCheckpoint(c, seed: 4, dtype);
        using var wide = new RandomCheckpoint(c, seed: 4, dtype);
        // The F32 twin holds exactly the rounded values, so both must compute the same function.
        using var f32 = new RandomCheckpoint(c, seed: 4, DType.F32);
        foreach (var name in f32.Names) f32.Set(name, wide.Get(name));
        using var a = Load(c, half, FseMode.On);
        using var b = Load(c, f32, FseMode.On);
        var tokens = RandomTokens(7, c.VocabSize, seed: 8);
        var x = Prefill(a, tokens);
        var y = Prefill(b, tokens);
        for (int i = 0; i < tokens.Length; i++) Assert.True(RelativeL2(x[i], y[i]) < 1e-6);
    }

    [Fact]
    public void TokenIdsOutsideTheVocabularyAreRejectedByName()
    {
        var c = TinyConfigs.Qwen2Moe;
        using var source = new RandomCheckpoint(c, seed: 1);
        using var model = Load(c, source, FseMode.On);
        var e = Assert.Throws<CheckpointException>(() => Prefill(model, [1, c.VocabSize + 5]));
        Assert.Equal(CheckpointErrorKind.TokenOutOfRange, e.Kind);
        Assert.Contains((c.VocabSize + 5).ToString(), e.Message);
    }

    [Fact]
    public void AMissingTensorIsNamedAndNothingStaysLoaded()
    {
        var c = TinyConfigs.Glm4Moe;
        using var source = new RandomCheckpoint(c, seed: 1);
        source.Remove("model.layers.2.mlp.experts.5.down_proj.weight");
        var e = Assert.Throws<CheckpointException>(() => Load(c, source, FseMode.On));
        Assert.Equal(CheckpointErrorKind.TensorMissing, e.Kind);
        Assert.Equal("model.layers.2.mlp.experts.5.down_proj.weight", e.Key);
    }
}
