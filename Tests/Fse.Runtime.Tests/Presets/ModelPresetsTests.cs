using System.Text.Json;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Presets;

namespace Fse.Runtime.Tests.Presets;

public class ModelPresetsTests
{
    [Fact]
    public void EveryNameResolvesAndItsConfigJsonParsesToItsConfig()
    {
        Assert.Equal(6, ModelPresets.Names.Count);
        foreach (var name in ModelPresets.Names)
        {
            var preset = ModelPresets.Get(name);
            Assert.Equal(name, preset.Name);
            var json = preset.ConfigJson();
            using var doc = JsonDocument.Parse(json);
            var parsed = ModelConfig.Parse(json, "config.json");
            Assert.Equal(ParameterCount.Total(preset.Config()), ParameterCount.Total(parsed));
            Assert.Equal(preset.Config().ModelType, doc.RootElement.GetProperty("model_type").GetString());
            Assert.NotEmpty(doc.RootElement.GetProperty("architectures").EnumerateArray());
        }
        Assert.True(ModelPresets.TryGet("TINY-QWEN2-MOE", out var upper));
        Assert.Equal(ModelPresets.TinyQwen2Moe, upper.Name);
        var e = Assert.Throws<ArgumentException>(() => ModelPresets.Get("llama-70b"));
        Assert.Contains("llama-70b", e.Message);
        Assert.Contains(ModelPresets.TinyGlm4Moe, e.Message);
    }

    [Fact]
    public void RealPresetsCarryThePublishedGeometry()
    {
        var next = ModelPresets.Get(ModelPresets.Qwen3Next80B).Config();
        Assert.Equal((48, 2048, 512, 10, 512, 512, 151936), (next.NumLayers, next.HiddenSize, next.NumExperts, next.NumExpertsPerTok, next.MoeIntermediateSize, next.SharedExpertIntermediateSize, next.VocabSize));
        Assert.Equal((16, 2, 256, 0.25, 1e7), (next.NumHeads, next.NumKvHeads, next.HeadDim, next.PartialRotaryFactor, next.RopeTheta));
        Assert.Equal((16, 32, 128, 128, 4), (next.LinearNumKeyHeads, next.LinearNumValueHeads, next.LinearKeyHeadDim, next.LinearValueHeadDim, next.LinearConvKernelDim));
        Assert.Equal("bfloat16", next.DType);

        var qwen15 = ModelPresets.Get(ModelPresets.Qwen15MoeA27B).Config();
        Assert.Equal((24, 2048, 60, 4, 1408, 5632, 5632), (qwen15.NumLayers, qwen15.HiddenSize, qwen15.NumExperts, qwen15.NumExpertsPerTok, qwen15.MoeIntermediateSize, qwen15.SharedExpertIntermediateSize, qwen15.IntermediateSize));
        Assert.False(qwen15.NormTopkProb);
        Assert.Equal(4, qwen15.SharedExpertSlots);

        var air = ModelPresets.Get(ModelPresets.Glm45Air).Config();
        Assert.Equal((46, 4096, 128, 8, 1408, 1, 10944), (air.NumLayers, air.HiddenSize, air.NumExperts, air.NumExpertsPerTok, air.MoeIntermediateSize, air.NumSharedExperts, air.IntermediateSize));
        Assert.Equal((96, 8, 128, 0.5, 1, 1, 1.0), (air.NumHeads, air.NumKvHeads, air.HeadDim, air.PartialRotaryFactor, air.NGroup, air.TopkGroup, air.RoutedScalingFactor));
        Assert.True(air.QkvBias);
        Assert.False(air.QkNorm);
        Assert.Equal(151552, air.VocabSize);
    }

    [Fact]
    public void TinyPresetsKeepTheFeaturesTheRuntimeMustHandle()
    {
        var next = ModelPresets.Get(ModelPresets.TinyQwen3Next).Config();
        Assert.Equal([AttentionKind.Linear, AttentionKind.Linear, AttentionKind.Linear, AttentionKind.Full], next.LayerTypes);
        Assert.Equal((64, 16, 4, 32, 32, 2048), (next.HiddenSize, next.NumExperts, next.NumExpertsPerTok, next.MoeIntermediateSize, next.SharedExpertIntermediateSize, next.VocabSize));
        Assert.Equal(1, next.SharedExpertSlots);

        var qwen2 = ModelPresets.Get(ModelPresets.TinyQwen2Moe).Config();
        Assert.Equal(3, qwen2.SharedExpertSlots); // 80 = 2*32 + 16: the third slot is zero-padded
        Assert.False(qwen2.NormTopkProb);
        Assert.Equal(FeedForwardKind.Dense, qwen2.FeedForwardOf(2));
        Assert.Equal(3, Enumerable.Range(0, qwen2.NumLayers).Count(i => qwen2.FeedForwardOf(i) == FeedForwardKind.Moe));

        var glm = ModelPresets.Get(ModelPresets.TinyGlm4Moe).Config();
        Assert.Equal((4, 2, 2.5, 2, 1), (glm.NGroup, glm.TopkGroup, glm.RoutedScalingFactor, glm.NumSharedExperts, glm.FirstKDenseReplace));
        Assert.Equal((0.5, 8), (glm.PartialRotaryFactor, glm.RotaryDim));
        Assert.True(glm.QkNorm);
        Assert.True(glm.QkvBias);
        Assert.Equal(2, glm.SharedExpertSlots);
        Assert.All(ModelPresets.All.Where(p => p.IsTiny), p => Assert.True(ParameterCount.Total(p.Config()) < 1_000_000));
    }

    [Fact]
    public void LayerOverrideKeepsEachFamilysPattern()
    {
        var next = ModelPresets.Get(ModelPresets.Qwen3Next80B).Config(layers: 8);
        Assert.Equal(8, next.NumLayers);
        Assert.Equal([3, 7], Enumerable.Range(0, 8).Where(i => next.LayerTypes[i] == AttentionKind.Full));

        var qwen2 = ModelPresets.Get(ModelPresets.TinyQwen2Moe).Config(layers: 2);
        Assert.Empty(qwen2.MlpOnlyLayers);     // layer 2 no longer exists
        var qwen2Long = ModelPresets.Get(ModelPresets.TinyQwen2Moe).Config(layers: 6);
        Assert.Equal([2], qwen2Long.MlpOnlyLayers);

        var glm = ModelPresets.Get(ModelPresets.Glm45Air).Config(layers: 3);
        Assert.Equal(3, glm.NumLayers);
        Assert.Equal(FeedForwardKind.Dense, glm.FeedForwardOf(0));
        Assert.Equal(FeedForwardKind.Moe, glm.FeedForwardOf(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => ModelPresets.Get(ModelPresets.Glm45Air).ConfigJson(layers: 0));
    }

    [Fact]
    public void DTypeOverrideIsWrittenIntoTheConfig()
    {
        var preset = ModelPresets.Get(ModelPresets.TinyGlm4Moe);
        Assert.Equal("float32", preset.DType);
        Assert.Equal("bfloat16", preset.Config(dtype: "bfloat16").DType);
        Assert.Contains("\"torch_dtype\": \"float16\"", preset.ConfigJson(dtype: "float16"));
        Assert.Throws<ArgumentException>(() => preset.ConfigJson(dtype: "int8"));
    }
}
