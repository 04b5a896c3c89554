using Fse.Kernels.Cpu;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Inference;
using Fse.Runtime.Presets;

namespace Fse.Runtime.Tests.Models;

public sealed class LocalModelTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fse-local-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData(ModelPresets.TinyQwen3Next, "float32")]
    [InlineData(ModelPresets.TinyQwen2Moe, "bfloat16")]
    [InlineData(ModelPresets.TinyGlm4Moe, "float16")]
    public void PresetCheckpointsLoadInBothFseModesWithEqualLogits(string preset, string dtype)
    {
        var dir = Path.Combine(_root, preset);
        PresetWriter.Write(preset, dir, seed: 3, dtype: dtype);
        using var off = LocalModel.Open(dir, FseMode.Off, new CpuBackend());
        using var on = LocalModel.Open(dir, FseMode.On, new CpuBackend());
        Assert.Empty(off.IgnoredTensors);
        var tokens = ModelHarness.RandomTokens(11, off.Config.VocabSize, seed: 4);
        var a = new Generator(off.Model).Logits(tokens);
        var b = new Generator(on.Model).Logits(tokens);
        for (int i = 0; i < tokens.Length; i++)
            Assert.True(ModelHarness.RelativeL2(b[i], a[i]) < 1e-5, $"{preset} position {i}: {ModelHarness.RelativeL2(b[i], a[i]):E2}");
        var greedyOff = new Generator(off.Model).Generate(tokens, 8, SamplingParams.Greedy, []);
        var greedyOn = new Generator(on.Model).Generate(tokens, 8, SamplingParams.Greedy, []);
        Assert.Equal(greedyOff.TokenIds, greedyOn.TokenIds);
    }

    [Theory]
    [MemberData(nameof(TinyConfigs.Names), MemberType = typeof(TinyConfigs))]
    public void TheTestCheckpointAndTheManifestNameTheSameTensors(string arch)
    {
        var c = TinyConfigs.ByName(arch);
        using var source = new RandomCheckpoint(c, seed: 1);
        var manifest = TensorManifest.Expected(c).ToDictionary(t => t.Name, t => t.Shape.Dims.ToArray());
        Assert.Equal(manifest.Keys.Order(), source.Names.Order());
        foreach (var name in source.Names)
        {
            source.TryGet(name, out var t);
            Assert.Equal(manifest[name], t.Shape.Select(d => (long)d));
        }
    }

    [Fact]
    public void AWrongShapeNamesTheTensorAndBothShapesAndLeavesNothingLoaded()
    {
        var dir = Path.Combine(_root, "bad");
        PresetWriter.Write(ModelPresets.TinyQwen2Moe, dir, seed: 1);
        var configPath = Path.Combine(dir, "config.json");
        var json = File.ReadAllText(configPath);
        File.WriteAllText(configPath, json.Replace("\"moe_intermediate_size\": 32", "\"moe_intermediate_size\": 24"));
        var e = Assert.Throws<CheckpointException>(() => LocalModel.Open(dir, FseMode.On, new CpuBackend()));
        Assert.Equal(CheckpointErrorKind.ShapeMismatch, e.Kind);
        Assert.Contains("24", e.Message);
        Assert.Contains("32", e.Message);
        // The maps are released: the files can be deleted and rewritten at once.
        Directory.Delete(dir, recursive: true);
    }
}
