using Fse.Runtime.Checkpoints;
using Fse.Runtime.Presets;

namespace Fse.Runtime.Tests.Checkpoints;

public class TensorManifestTests
{
    private static Dictionary<string, ExpectedTensor> Manifest(string preset, ExpertLayout layout = ExpertLayout.PerExpert) =>
        TensorManifest.Expected(ModelPresets.Get(preset).Config(), layout).ToDictionary(t => t.Name);

    private static void AssertShape(Dictionary<string, ExpectedTensor> m, string name, params long[] dims)
    {
        Assert.True(m.TryGetValue(name, out var t), $"manifest lacks {name}");
        Assert.Equal(new TensorShape(dims), t!.Shape);
    }

    [Fact]
    public void Qwen3NextHasGatedQueryLinearAttentionAndGatedSharedExpert()
    {
        var m = Manifest(ModelPresets.TinyQwen3Next); // hidden 64, heads 4x16 (kv 2), linear k 2x16 v 4x16, kernel 4, 16 experts of 32, vocab 2048
        AssertShape(m, "model.embed_tokens.weight", 2048, 64);
        AssertShape(m, "lm_head.weight", 2048, 64);
        AssertShape(m, "model.norm.weight", 64);
        Assert.Equal(TensorRole.ZeroCenteredNorm, m["model.norm.weight"].Role);
        for (int i = 0; i < 3; i++)
        {
            var p = $"model.layers.{i}.linear_attn.";
            AssertShape(m, p + "in_proj_qkvz.weight", 2 * 32 + 2 * 64, 64);
            AssertShape(m, p + "in_proj_ba.weight", 2 * 4, 64);
            AssertShape(m, p + "conv1d.weight", 2 * 32 + 64, 1, 4);
            AssertShape(m, p + "dt_bias", 4);
            AssertShape(m, p + "A_log", 4);
            AssertShape(m, p + "norm.weight", 16);
            Assert.Equal(TensorRole.Norm, m[p + "norm.weight"].Role); // the gated norm multiplies by w, not 1+w
            AssertShape(m, p + "out_proj.weight", 64, 64);
            Assert.DoesNotContain(m.Keys, k => k.StartsWith($"model.layers.{i}.self_attn."));
        }
        var a = "model.layers.3.self_attn.";
        AssertShape(m, a + "q_proj.weight", 2 * 4 * 16, 64); // query and output gate
        AssertShape(m, a + "k_proj.weight", 2 * 16, 64);
        AssertShape(m, a + "v_proj.weight", 2 * 16, 64);
        AssertShape(m, a + "o_proj.weight", 64, 4 * 16);
        AssertShape(m, a + "q_norm.weight", 16);
        AssertShape(m, a + "k_norm.weight", 16);
        Assert.Equal(TensorRole.ZeroCenteredNorm, m[a + "q_norm.weight"].Role);
        Assert.DoesNotContain(m.Keys, k => k.EndsWith(".bias"));
        var moe = "model.layers.2.mlp.";
        AssertShape(m, moe + "gate.weight", 16, 64);
        AssertShape(m, moe + "experts.15.gate_proj.weight", 32, 64);
        AssertShape(m, moe + "experts.15.up_proj.weight", 32, 64);
        AssertShape(m, moe + "experts.15.down_proj.weight", 64, 32);
        AssertShape(m, moe + "shared_expert.gate_proj.weight", 32, 64);
        AssertShape(m, moe + "shared_expert.down_proj.weight", 64, 32);
        AssertShape(m, moe + "shared_expert_gate.weight", 1, 64);
        Assert.False(m.ContainsKey(moe + "experts.16.gate_proj.weight"));
        Assert.False(m.ContainsKey(moe + "gate.e_score_correction_bias"));
    }

    [Fact]
    public void Qwen2MoeHasQkvBiasesADenseLayerAndAWiderSharedExpert()
    {
        var m = Manifest(ModelPresets.TinyQwen2Moe); // hidden 64, heads 4 (kv 2), 8 experts of 32, shared 80, dense 96 at layer 2
        var a = "model.layers.0.self_attn.";
        AssertShape(m, a + "q_proj.weight", 64, 64);
        AssertShape(m, a + "q_proj.bias", 64);
        AssertShape(m, a + "k_proj.bias", 32);
        AssertShape(m, a + "v_proj.bias", 32);
        Assert.False(m.ContainsKey(a + "o_proj.bias"));
        Assert.False(m.ContainsKey(a + "q_norm.weight"));
        Assert.Equal(TensorRole.Norm, m["model.layers.0.input_layernorm.weight"].Role);
        AssertShape(m, "model.layers.2.mlp.gate_proj.weight", 96, 64);
        AssertShape(m, "model.layers.2.mlp.down_proj.weight", 64, 96);
        Assert.DoesNotContain(m.Keys, k => k.StartsWith("model.layers.2.mlp.experts."));
        AssertShape(m, "model.layers.3.mlp.shared_expert.up_proj.weight", 80, 64);
        AssertShape(m, "model.layers.3.mlp.shared_expert.down_proj.weight", 64, 80);
        AssertShape(m, "model.layers.3.mlp.shared_expert_gate.weight", 1, 64);
        AssertShape(m, "model.layers.3.mlp.experts.7.down_proj.weight", 64, 32);
    }

    [Fact]
    public void Glm4MoeHasUngatedSharedExpertsAFloat32CorrectionBiasAndNoOutputBias()
    {
        var m = Manifest(ModelPresets.TinyGlm4Moe); // 16 experts of 32, 2 shared, first layer dense (128), qk-norm, bias
        AssertShape(m, "model.layers.0.mlp.gate_proj.weight", 128, 64);
        Assert.DoesNotContain(m.Keys, k => k.StartsWith("model.layers.0.mlp.experts."));
        var a = "model.layers.1.self_attn.";
        AssertShape(m, a + "q_proj.bias", 64);
        AssertShape(m, a + "k_proj.bias", 32);
        Assert.False(m.ContainsKey(a + "o_proj.bias"));
        AssertShape(m, a + "q_norm.weight", 16);
        Assert.Equal(TensorRole.Norm, m[a + "k_norm.weight"].Role);
        var moe = "model.layers.2.mlp.";
        AssertShape(m, moe + "gate.weight", 16, 64);
        AssertShape(m, moe + "gate.e_score_correction_bias", 16);
        Assert.Equal(SafetensorsDType.F32, m[moe + "gate.e_score_correction_bias"].DType);
        AssertShape(m, moe + "shared_experts.gate_proj.weight", 2 * 32, 64);
        AssertShape(m, moe + "shared_experts.down_proj.weight", 64, 2 * 32);
        Assert.False(m.ContainsKey(moe + "shared_expert_gate.weight"));
        Assert.False(m.ContainsKey(moe + "shared_expert.gate_proj.weight"));
    }

    [Fact]
    public void PackedLayoutReplacesPerExpertTensorsWithTwoStackedOnes()
    {
        var perExpert = Manifest(ModelPresets.TinyQwen2Moe);
        var packed = Manifest(ModelPresets.TinyQwen2Moe, ExpertLayout.Packed);
        AssertShape(packed, "model.layers.1.mlp.experts.gate_up_proj", 8, 2 * 32, 64);
        AssertShape(packed, "model.layers.1.mlp.experts.down_proj", 8, 64, 32);
        Assert.DoesNotContain(packed.Keys, k => k.Contains(".experts.0."));
        Assert.False(packed.ContainsKey("model.layers.2.mlp.experts.gate_up_proj")); // the dense layer
        Assert.Equal(perExpert.Values.Sum(t => t.ElementCount), packed.Values.Sum(t => t.ElementCount));
    }

    [Fact]
    public void TiedEmbeddingsDropTheLmHead()
    {
        var json = ModelPresets.Get(ModelPresets.TinyQwen2Moe).ConfigJson().Replace("\"tie_word_embeddings\": false", "\"tie_word_embeddings\": true");
        var m = TensorManifest.Expected(ModelConfig.Parse(json, "config.json"));
        Assert.DoesNotContain(m, t => t.Name == "lm_head.weight");
        Assert.Contains(m, t => t.Name == "model.embed_tokens.weight");
    }

    [Fact]
    public void RealPresetsHaveTheirPublishedSizes()
    {
        var next = ModelPresets.Get(ModelPresets.Qwen3Next80B).Config();
        Assert.InRange(ParameterCount.Total(next), 79e9, 82e9);
        Assert.InRange(ParameterCount.Active(next), 2.8e9, 4.0e9);
        var qwen15 = ModelPresets.Get(ModelPresets.Qwen15MoeA27B).Config();
        Assert.InRange(ParameterCount.Total(qwen15), 14.2e9, 14.4e9);   // "14.3B"
        Assert.InRange(ParameterCount.Active(qwen15), 2.6e9, 2.8e9);    // "A2.7B"
        var air = ModelPresets.Get(ModelPresets.Glm45Air).Config();
        Assert.InRange(ParameterCount.Total(air), 105e9, 108e9);        // "106B" (without the next-n layer)
        long embeddings = 2L * 151552 * 4096;
        Assert.InRange(ParameterCount.Active(air) - embeddings, 11.5e9, 12.5e9); // "12B active", not counting embeddings
        Assert.Equal(ParameterCount.Total(air) * 2 + 128 * 45 * 2, ParameterCount.Bytes(air)); // the F32 correction biases
    }

    public static TheoryData<string> AllPresets() => new(ModelPresets.Names);

    [Theory]
    [MemberData(nameof(AllPresets))]
    public void ParameterCountsAreUnchangedFromTheClosedForm(string preset)
    {
        var c = ModelPresets.Get(preset).Config();
        Assert.Equal(ClosedFormCount(c, activeOnly: false), ParameterCount.Total(c));
        Assert.Equal(ClosedFormCount(c, activeOnly: true), ParameterCount.Active(c));
        var names = TensorManifest.Expected(c).Select(t => t.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
    }

    /// <summary>The per-block formula ParameterCount used before it summed the manifest (valid without qwen3_next attention bias).</summary>
    private static long ClosedFormCount(ModelConfig c, bool activeOnly)
    {
        long h = c.HiddenSize;
        long n = (long)c.VocabSize * h + h + (c.TieWordEmbeddings ? 0 : (long)c.VocabSize * h);
        for (int i = 0; i < c.NumLayers; i++)
        {
            n += 2 * h;
            if (c.LayerTypes[i] == AttentionKind.Linear)
            {
                long keyDim = (long)c.LinearNumKeyHeads * c.LinearKeyHeadDim, valueDim = (long)c.LinearNumValueHeads * c.LinearValueHeadDim;
                n += h * (2 * keyDim + 2 * valueDim) + h * 2 * c.LinearNumValueHeads + (2 * keyDim + valueDim) * c.LinearConvKernelDim
                    + 2L * c.LinearNumValueHeads + c.LinearValueHeadDim + valueDim * h;
            }
            else
            {
                long q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKvHeads * c.HeadDim;
                n += h * q * (c.AttentionOutputGate ? 2 : 1) + 2 * h * kv + q * h + (c.QkvBias ? q + 2 * kv : 0) + (c.QkNorm ? 2L * c.HeadDim : 0);
            }
            if (c.FeedForwardOf(i) == FeedForwardKind.Moe)
            {
                n += (long)c.NumExperts * h + 3 * h * c.MoeIntermediateSize * (activeOnly ? c.NumExpertsPerTok : c.NumExperts)
                    + 3 * h * c.SharedExpertIntermediateSize + (c.SharedExpertGate ? h : 0) + (c.Scoring == RouterScoring.SigmoidGrouped ? c.NumExperts : 0);
            }
            else n += 3 * h * c.IntermediateSize;
        }
        return n;
    }
}
