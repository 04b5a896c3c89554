using System.Security.Cryptography;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Presets;
using Fse.Runtime.Tests.Checkpoints;
using static Fse.Runtime.Tests.Checkpoints.SafetensorsTestData;

namespace Fse.Runtime.Tests.Presets;

public class PresetWriterTests
{
    public static TheoryData<string, string> TinyPresetsAndDTypes()
    {
        var data = new TheoryData<string, string>();
        foreach (var p in new[] { ModelPresets.TinyQwen3Next, ModelPresets.TinyQwen2Moe, ModelPresets.TinyGlm4Moe })
            foreach (var d in new[] { "float32", "float16", "bfloat16" }) data.Add(p, d);
        return data;
    }

    [Theory]
    [MemberData(nameof(TinyPresetsAndDTypes))]
    public void TinyPresetsWriteCheckpointsThatValidateAndHoldTheGeneratorsValues(string preset, string dtype)
    {
        using var dir = new TempDirectory();
        var result = PresetWriter.Write(preset, dir.Path, seed: 5, dtype: dtype);
        var config = ModelConfig.Load(dir.Path);
        Assert.Equal(ModelPresets.Get(preset).ConfigJson(dtype: dtype), File.ReadAllText(dir.File("config.json")));
        Assert.Equal(dtype, config.DType);
        Assert.Equal(ParameterCount.Total(config), result.Parameters);
        Assert.Equal(ParameterCount.Bytes(config), result.Bytes);
        Assert.Equal(FseModelInfo.Load(dir.Path).ParameterCount, result.Parameters);

        using var checkpoint = Checkpoint.Open(dir.Path);
        var validation = CheckpointValidator.Validate(config, checkpoint);
        Assert.Equal(ExpertLayout.PerExpert, validation.Layout);
        Assert.Empty(validation.Unexpected);
        var target = SafetensorsDTypes.FromConfigName(dtype);
        foreach (var t in validation.Expected)
        {
            var view = checkpoint.Get(t.Name);
            Assert.Equal(t.DType ?? target, view.DType);
            var expected = new float[t.ElementCount];
            RandomWeights.Fill(5, t, config, 0, expected);
            Assert.Equal(expected.Select(v => Quantize(v, view.DType)), view.ToFloat32Array());
        }
    }

    [Fact]
    public void InitialisationFollowsEachTensorsRole()
    {
        using var dir = new TempDirectory();
        PresetWriter.Write(ModelPresets.TinyQwen3Next, dir.Path, seed: 1);
        using var ck = Checkpoint.Open(dir.Path);
        static (double Mean, double Std) Stats(float[] v)
        {
            double m = v.Average(x => (double)x);
            return (m, Math.Sqrt(v.Average(x => (x - m) * (x - m))));
        }
        var zeroCentred = Stats(ck.Get("model.layers.0.input_layernorm.weight").ToFloat32Array());
        Assert.InRange(zeroCentred.Mean, -0.01, 0.01);
        var gatedNorm = Stats(ck.Get("model.layers.0.linear_attn.norm.weight").ToFloat32Array());
        Assert.InRange(gatedNorm.Mean, 0.98, 1.02);
        var aLog = ck.Get("model.layers.0.linear_attn.A_log").ToFloat32Array();
        Assert.All(aLog, v => Assert.InRange(v, 0f, MathF.Log(16)));
        var dtBias = Stats(ck.Get("model.layers.1.linear_attn.dt_bias").ToFloat32Array());
        Assert.InRange(dtBias.Mean, 0.8, 1.2);
        var router = Stats(ck.Get("model.layers.0.mlp.gate.weight").ToFloat32Array());
        var expert = Stats(ck.Get("model.layers.0.mlp.experts.0.gate_proj.weight").ToFloat32Array());
        Assert.InRange(expert.Std, 0.9 / 8, 1.1 / 8);                 // 1/sqrt(64)
        Assert.True(router.Std > 3 * expert.Std);                      // decisive routing
        var lmHead = Stats(ck.Get("lm_head.weight").ToFloat32Array());
        Assert.InRange(lmHead.Std, 0.45, 0.55);                        // 4/sqrt(64): decisive greedy choices
        var conv = Stats(ck.Get("model.layers.0.linear_attn.conv1d.weight").ToFloat32Array());
        Assert.InRange(conv.Std, 0.45, 0.55);                          // 1/sqrt(kernel 4)
    }

    private static string HashDirectory(string dir) =>
        string.Join("\n", Directory.GetFiles(dir).Order(StringComparer.Ordinal)
            .Select(f => Path.GetFileName(f) + " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))));

    [Fact]
    public void TheSameSeedGivesIdenticalFilesAndAnotherSeedDifferentOnes()
    {
        using var a = new TempDirectory();
        using var b = new TempDirectory();
        using var c = new TempDirectory();
        PresetWriter.Write(ModelPresets.TinyGlm4Moe, a.Path, seed: 9, dtype: "bfloat16");
        PresetWriter.Write(ModelPresets.TinyGlm4Moe, b.Path, seed: 9, dtype: "bfloat16");
        PresetWriter.Write(ModelPresets.TinyGlm4Moe, c.Path, seed: 10, dtype: "bfloat16");
        Assert.Equal(HashDirectory(a.Path), HashDirectory(b.Path));
        Assert.NotEqual(File.ReadAllBytes(a.File("model.safetensors")), File.ReadAllBytes(c.File("model.safetensors")));
        Assert.Equal(File.ReadAllText(a.File("config.json")), File.ReadAllText(c.File("config.json")));
    }

    [Fact]
    public void ShardedWritesHoldTheSameTensorsAsASingleFile()
    {
        using var single = new TempDirectory();
        using var sharded = new TempDirectory();
        PresetWriter.Write(ModelPresets.TinyQwen2Moe, single.Path, seed: 2, dtype: "float16");
        var result = PresetWriter.Write(ModelPresets.TinyQwen2Moe, sharded.Path, seed: 2, dtype: "float16", maxShardBytes: 200_000);
        Assert.True(File.Exists(sharded.File(Checkpoint.IndexFileName)));
        Assert.True(Directory.GetFiles(sharded.Path, "model-*-of-*.safetensors").Length >= 5);
        Assert.Contains(sharded.File(Checkpoint.IndexFileName), result.Files);
        using var a = Checkpoint.Open(single.Path);
        using var b = Checkpoint.Open(sharded.Path);
        Assert.Equal(a.TensorNames.Order(), b.TensorNames.Order());
        foreach (var name in a.TensorNames) Assert.Equal(a.Get(name).Bytes.ToArray(), b.Get(name).Bytes.ToArray());
    }

    [Fact]
    public void GlmCorrectionBiasStaysFloat32InAHalfPrecisionCheckpoint()
    {
        using var dir = new TempDirectory();
        PresetWriter.Write(ModelPresets.TinyGlm4Moe, dir.Path, dtype: "bfloat16");
        using var ck = Checkpoint.Open(dir.Path);
        Assert.Equal(SafetensorsDType.F32, ck.Get("model.layers.1.mlp.gate.e_score_correction_bias").DType);
        Assert.Equal(SafetensorsDType.BF16, ck.Get("model.layers.1.mlp.gate.weight").DType);
    }

    [Fact]
    public void ALayerOverrideAndARewriteReplaceTheOldWeights()
    {
        using var dir = new TempDirectory();
        PresetWriter.Write(ModelPresets.TinyQwen2Moe, dir.Path, maxShardBytes: 200_000);
        PresetWriter.Write(ModelPresets.TinyQwen2Moe, dir.Path, layers: 2);
        Assert.False(File.Exists(dir.File(Checkpoint.IndexFileName)));
        Assert.Single(Directory.GetFiles(dir.Path, "*.safetensors"));
        var config = ModelConfig.Load(dir.Path);
        Assert.Equal(2, config.NumLayers);
        using var ck = Checkpoint.Open(dir.Path);
        CheckpointValidator.Validate(config, ck);
        Assert.DoesNotContain(ck.TensorNames, n => n.StartsWith("model.layers.2."));
    }

    [Fact]
    public void ProgressReachesTheTotalAndCancellationLeavesNoFiles()
    {
        using var dir = new TempDirectory();
        var reports = new List<PresetWriteProgress>();
        var progress = new SyncProgress(reports);
        var result = PresetWriter.Write(ModelPresets.TinyQwen3Next, dir.Sub("ok"), progress: progress);
        Assert.Equal(result.Bytes, reports.Max(r => r.BytesWritten));
        Assert.All(reports, r => Assert.Equal(result.Bytes, r.TotalBytes));

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var cancelled = dir.Sub("cancelled");
        Assert.ThrowsAny<OperationCanceledException>(() => PresetWriter.Write(ModelPresets.TinyQwen3Next, cancelled, cancellationToken: cts.Token));
        Assert.Empty(Directory.GetFiles(cancelled));
    }

    [Fact]
    public void UnknownPresetsAndDTypesAreRejected()
    {
        using var dir = new TempDirectory();
        Assert.Throws<ArgumentException>(() => PresetWriter.Write("no-such-model", dir.Path));
        Assert.Throws<ArgumentException>(() => PresetWriter.Write(ModelPresets.TinyQwen2Moe, dir.Path, dtype: "float8"));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    private sealed class SyncProgress(List<PresetWriteProgress> reports) : IProgress<PresetWriteProgress>
    {
        public void Report(PresetWriteProgress value)
        {
            lock (reports) reports.Add(value);
        }
    }
}
