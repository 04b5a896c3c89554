using Fse.Runtime.Checkpoints;
using Fse.Runtime.Presets;
using static Fse.Runtime.Tests.Checkpoints.SafetensorsTestData;

namespace Fse.Runtime.Tests.Checkpoints;

public class CheckpointValidatorTests
{
    /// <summary>Writes a checkpoint of the tiny preset's tensors after <paramref name="edit"/> changed the list.</summary>
    private static ModelConfig WriteEdited(string directory, string preset, Func<List<TensorEntry>, List<TensorEntry>> edit,
        ExpertLayout layout = ExpertLayout.PerExpert)
    {
        var config = ModelPresets.Get(preset).Config();
        var entries = TensorManifest.Expected(config, layout).Select(t => new TensorEntry(t.Name, SafetensorsDType.BF16, t.Shape)).ToList();
        entries = edit(entries);
        using var writer = CheckpointWriter.Create(directory, entries);
        int seed = 0;
        foreach (var e in entries) writer.WriteFloat32(e.Name, 0, RandomFloats((int)e.Shape.ElementCount, seed++));
        writer.Complete();
        return config;
    }

    [Theory]
    [InlineData(ModelPresets.TinyQwen3Next)]
    [InlineData(ModelPresets.TinyQwen2Moe)]
    [InlineData(ModelPresets.TinyGlm4Moe)]
    public void WrittenPresetsValidateInBothExpertLayouts(string preset)
    {
        foreach (var layout in new[] { ExpertLayout.PerExpert, ExpertLayout.Packed })
        {
            using var dir = new TempDirectory();
            var config = WriteEdited(dir.Path, preset, e => e, layout);
            using var checkpoint = Checkpoint.Open(dir.Path);
            var result = CheckpointValidator.Validate(config, checkpoint);
            Assert.Equal(layout, result.Layout);
            Assert.Empty(result.Unexpected);
            Assert.Equal(checkpoint.Count, result.Expected.Count);
        }
    }

    [Fact]
    public void AMissingTensorIsNamedWithTheDirectory()
    {
        using var dir = new TempDirectory();
        const string gone = "model.layers.3.mlp.experts.5.up_proj.weight";
        var config = WriteEdited(dir.Path, ModelPresets.TinyQwen2Moe, e => e.Where(t => t.Name != gone).ToList());
        using var checkpoint = Checkpoint.Open(dir.Path);
        var ex = Assert.Throws<CheckpointException>(() => CheckpointValidator.Validate(config, checkpoint));
        Assert.Equal(CheckpointErrorKind.TensorMissing, ex.Kind);
        Assert.Equal(gone, ex.Key);
        Assert.Contains(gone, ex.Message);
        Assert.Contains(dir.Path, ex.Message);
        Assert.Contains("[32, 64]", ex.Message);
    }

    [Fact]
    public void AWrongShapeNamesTheTensorAndBothShapes()
    {
        using var dir = new TempDirectory();
        const string bent = "model.layers.1.self_attn.q_proj.weight";
        var config = WriteEdited(dir.Path, ModelPresets.TinyGlm4Moe,
            e => e.Select(t => t.Name == bent ? t with { Shape = new TensorShape(48, 64) } : t).ToList());
        using var checkpoint = Checkpoint.Open(dir.Path);
        var ex = Assert.Throws<CheckpointException>(() => CheckpointValidator.Validate(config, checkpoint));
        Assert.Equal(CheckpointErrorKind.ShapeMismatch, ex.Kind);
        Assert.Equal(bent, ex.Key);
        Assert.Contains(bent, ex.Message);
        Assert.Contains("[48, 64]", ex.Message); // found
        Assert.Contains("[64, 64]", ex.Message); // expected
    }

    [Fact]
    public void HubExtrasAreIgnoredAndReported()
    {
        using var dir = new TempDirectory();
        var extras = new[]
        {
            new TensorEntry("mtp.fc.weight", SafetensorsDType.BF16, new TensorShape(64, 128)),
            new TensorEntry("model.layers.3.eh_proj.weight", SafetensorsDType.BF16, new TensorShape(64, 128)),
        };
        var config = WriteEdited(dir.Path, ModelPresets.TinyGlm4Moe, e => [.. e, .. extras]);
        using var checkpoint = Checkpoint.Open(dir.Path);
        var result = CheckpointValidator.Validate(config, checkpoint);
        Assert.Equal(["model.layers.3.eh_proj.weight", "mtp.fc.weight"], result.Unexpected);
    }
}
