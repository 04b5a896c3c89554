using Fse.Kernels;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Presets;
using Fse.Runtime.Weights;

namespace Fse.Server.Tests.Engine;

public class PresetSourceTests
{
    [Theory]
    [InlineData("tiny-glm4-moe", null, 3)]
    [InlineData("tiny-qwen3-next", "bfloat16", 11)]
    public void TensorsEqualTheFilesPresetWriterWrites(string preset, string? dtype, int seed)
    {
        var dir = Path.Combine(Path.GetTempPath(), "fse-preset-source-" + Guid.NewGuid().ToString("N"));
        try
        {
            PresetWriter.Write(preset, dir, seed: seed, dtype: dtype);
            using var checkpoint = Checkpoint.Open(dir);
            using var source = new PresetSource(preset, seed: seed, dtype: dtype);
            var manifest = TensorManifest.Expected(source.Config);
            Assert.NotEmpty(manifest);
            foreach (var t in manifest)
            {
                Assert.True(checkpoint.TryGet(t.Name, out var view), t.Name);
                Assert.True(source.TryGet(t.Name, out var made), t.Name);
                Assert.Equal(view.Shape.Dims.Select(d => (int)d), made.Shape);
                Assert.True(view.Bytes.SequenceEqual(made.Bytes), $"{t.Name} differs from the written checkpoint.");
            }
            Assert.False(source.TryGet("model.layers.99.mlp.gate.weight", out _));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TensorsAreMadeOnDemandAndKept()
    {
        using var source = new PresetSource("tiny-qwen2-moe", layers: 2, seed: 5);
        Assert.Equal(2, source.Config.NumLayers);
        Assert.Equal(0, source.BytesGenerated);
        Assert.True(source.TryGet("model.embed_tokens.weight", out var a));
        long after = source.BytesGenerated;
        Assert.Equal((long)source.Config.VocabSize * source.Config.HiddenSize * 4, after);
        Assert.True(source.TryGet("model.embed_tokens.weight", out var b));
        Assert.Equal(a.Data, b.Data);
        Assert.Equal(after, source.BytesGenerated);
        Assert.Contains(a.Bytes.ToArray(), x => x != 0);
    }

    [Theory]
    [InlineData("tiny-qwen3-next", "bfloat16")]
    [InlineData("tiny-qwen2-moe", "float16")]
    [InlineData("tiny-glm4-moe", "float32")]
    public void WeightMatricesAreOfferedAsDrawsWithTheBytesOfTheGeneratedTensors(string preset, string dtype)
    {
        using var source = new PresetSource(preset, seed: 13, dtype: dtype);
        ITensorSource tensors = source;
        int drawn = 0;
        foreach (var t in TensorManifest.Expected(source.Config))
        {
            Assert.True(tensors.TryGetWeight(t.Name, out var weight), t.Name);
            Assert.Equal(t.Shape.Dims.Select(d => (int)d), weight.Shape);
            if (weight.Random is not { } random) continue;
            drawn++;
            var bytes = new byte[random.ElementCount * random.DType.Size()];
            random.WriteTo(bytes);
            Assert.True(source.TryGet(t.Name, out var made), t.Name);
            Assert.True(made.Bytes.SequenceEqual(bytes), $"{t.Name}: the draw differs from the generated tensor.");
        }
        // Every projection, expert, router, embedding and head is drawn; norms, biases, conv and DeltaNet parameters are not.
        Assert.True(drawn > source.Config.NumLayers * 3, $"only {drawn} tensors offered as draws");
        Assert.False(tensors.TryGetWeight("model.layers.99.mlp.gate.weight", out _));
    }

    [Fact]
    public void AnUnknownPresetIsRefused() => Assert.Throws<ArgumentException>(() => new PresetSource("no-such-model"));
}
