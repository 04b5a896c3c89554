using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Tests.Checkpoints;

public class ModelConfigTests
{
    // Qwen3-Next-80B-A3B-Instruct's config.json as published on the hub (hub layout, top-level rope keys).
    private const string Qwen3NextHub = """
    {
      "architectures": ["Qwen3NextForCausalLM"], "model_type": "qwen3_next",
      "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5120, "num_hidden_layers": 48,
      "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 256, "rms_norm_eps": 1e-06,
      "rope_theta": 10000000, "partial_rotary_factor": 0.25, "max_position_embeddings": 262144,
      "full_attention_interval": 4, "linear_conv_kernel_dim": 4, "linear_key_head_dim": 128,
      "linear_value_head_dim": 128, "linear_num_key_heads": 16, "linear_num_value_heads": 32,
      "num_experts": 512, "num_experts_per_tok": 10, "moe_intermediate_size": 512,
      "shared_expert_intermediate_size": 512, "norm_topk_prob": true, "decoder_sparse_step": 1,
      "mlp_only_layers": [], "tie_word_embeddings": false, "torch_dtype": "bfloat16",
      "bos_token_id": 151643, "eos_token_id": 151645
    }
    """;

    [Fact]
    public void Qwen3NextHubLayoutParses()
    {
        var c = ModelConfig.Parse(Qwen3NextHub, "config.json");
        Assert.Equal(ModelArchitecture.Qwen3Next, c.Architecture);
        Assert.Equal(48, c.NumLayers);
        Assert.Equal(1e7, c.RopeTheta);
        Assert.Equal(64, c.RotaryDim);
        Assert.True(c.ZeroCenteredNorm);
        Assert.True(c.QkNorm);
        Assert.True(c.AttentionOutputGate);
        Assert.Equal(1, c.SharedExpertSlots);
        Assert.Equal(12, c.LayerTypes.Count(t => t == AttentionKind.Full));
        Assert.Equal(AttentionKind.Full, c.LayerTypes[3]);
        Assert.Equal(AttentionKind.Linear, c.LayerTypes[0]);
        Assert.All(Enumerable.Range(0, 48), i => Assert.Equal(FeedForwardKind.Moe, c.FeedForwardOf(i)));
        Assert.Equal([151645], c.EosTokenIds);
        // Qwen3-Next-80B-A3B: about 80B stored, about 3B active.
        Assert.InRange(ParameterCount.Total(c), 79e9, 82e9);
        Assert.InRange(ParameterCount.Active(c), 2.8e9, 4.0e9);
    }

    [Fact]
    public void NewerLayoutReadsRopeParametersAndDtype()
    {
        var json = Qwen3NextHub
            .Replace("\"rope_theta\": 10000000, \"partial_rotary_factor\": 0.25,",
                     "\"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 5000, \"partial_rotary_factor\": 0.5},")
            .Replace("\"torch_dtype\"", "\"dtype\"");
        var c = ModelConfig.Parse(json, "config.json");
        Assert.Equal(5000, c.RopeTheta);
        Assert.Equal(0.5, c.PartialRotaryFactor);
        Assert.Equal(128, c.RotaryDim);
        Assert.Equal("bfloat16", c.DType);
    }

    [Fact]
    public void RopeParametersWinOverAStaleTopLevelCopy()
    {
        // What transformers 5.17 saved for the default model: rope_parameters holds what HF uses (0.5), the top level a stale 0.25.
        var json = Qwen3NextHub.Replace("\"rope_theta\": 10000000, \"partial_rotary_factor\": 0.25,",
            "\"rope_theta\": 7, \"partial_rotary_factor\": 0.25, \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 10000, \"partial_rotary_factor\": 0.5},");
        var c = ModelConfig.Parse(json, "config.json");
        Assert.Equal(0.5, c.PartialRotaryFactor);
        Assert.Equal(10000, c.RopeTheta);
    }

    [Fact]
    public void ExplicitLayerTypesWin()
    {
        var json = Qwen3NextHub.Replace("\"num_hidden_layers\": 48", "\"num_hidden_layers\": 3")
            .Replace("\"full_attention_interval\": 4,", "\"layer_types\": [\"full_attention\", \"linear_attention\", \"full_attention\"],");
        var c = ModelConfig.Parse(json, "config.json");
        Assert.Equal([AttentionKind.Full, AttentionKind.Linear, AttentionKind.Full], c.LayerTypes);
    }

    [Fact]
    public void Qwen2MoeDenseLayersFollowSparseStepAndMlpOnlyLayers()
    {
        const string json = """
        {"model_type": "qwen2_moe", "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 5632,
         "num_hidden_layers": 6, "num_attention_heads": 16, "num_key_value_heads": 16, "num_experts": 60,
         "num_experts_per_tok": 4, "moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632,
         "decoder_sparse_step": 2, "mlp_only_layers": [3], "torch_dtype": "bfloat16"}
        """;
        var c = ModelConfig.Parse(json, "config.json");
        Assert.Equal(128, c.HeadDim);
        Assert.True(c.QkvBias);
        Assert.False(c.NormTopkProb);          // HF default for qwen2_moe
        Assert.Equal(4, c.SharedExpertSlots);  // 5632 / 1408
        Assert.True(c.SharedExpertGate);
        var kinds = Enumerable.Range(0, 6).Select(c.FeedForwardOf).ToArray();
        Assert.Equal([FeedForwardKind.Dense, FeedForwardKind.Moe, FeedForwardKind.Dense, FeedForwardKind.Dense, FeedForwardKind.Dense, FeedForwardKind.Moe], kinds);
        Assert.All(c.LayerTypes, t => Assert.Equal(AttentionKind.Full, t));
    }

    [Fact]
    public void Glm4MoeSharedExpertsAndGroupedRouting()
    {
        const string json = """
        {"model_type": "glm4_moe", "vocab_size": 151552, "hidden_size": 4096, "intermediate_size": 10944,
         "num_hidden_layers": 46, "num_attention_heads": 96, "num_key_value_heads": 8, "head_dim": 128,
         "n_routed_experts": 128, "n_shared_experts": 1, "num_experts_per_tok": 8, "moe_intermediate_size": 1408,
         "first_k_dense_replace": 1, "n_group": 1, "topk_group": 1, "routed_scaling_factor": 1.0,
         "partial_rotary_factor": 0.5, "attention_bias": true, "use_qk_norm": false, "rope_theta": 1000000,
         "torch_dtype": "bfloat16", "eos_token_id": [151329, 151336, 151338]}
        """;
        var c = ModelConfig.Parse(json, "config.json");
        Assert.Equal(RouterScoring.SigmoidGrouped, c.Scoring);
        Assert.False(c.SharedExpertGate);
        Assert.Equal(1408, c.SharedExpertIntermediateSize);
        Assert.Equal(FeedForwardKind.Dense, c.FeedForwardOf(0));
        Assert.Equal(FeedForwardKind.Moe, c.FeedForwardOf(1));
        Assert.Equal(64, c.RotaryDim);
        Assert.Equal(3, c.EosTokenIds.Count);
        // GLM-4.5-Air: about 106B stored, about 12B active.
        Assert.InRange(ParameterCount.Total(c), 100e9, 112e9);
        Assert.InRange(ParameterCount.Active(c), 10e9, 14e9);
    }

    [Theory]
    [InlineData("{", CheckpointErrorKind.MalformedJson, null)]
    [InlineData("[1,2]", CheckpointErrorKind.MalformedJson, null)]
    [InlineData("""{"hidden_size": 8}""", CheckpointErrorKind.MissingKey, "model_type")]
    [InlineData("""{"model_type": "llama"}""", CheckpointErrorKind.UnknownModelType, "model_type")]
    [InlineData("""{"model_type": "qwen2_moe", "hidden_size": "big"}""", CheckpointErrorKind.InvalidValue, "hidden_size")]
    [InlineData("""{"model_type": "qwen2_moe", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1}""", CheckpointErrorKind.MissingKey, "vocab_size")]
    [InlineData("""{"model_type": "qwen2_moe", "vocab_size": 8, "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 4, "torch_dtype": "int8"}""", CheckpointErrorKind.InvalidValue, "torch_dtype")]
    [InlineData("""{"model_type": "qwen2_moe", "vocab_size": 8, "hidden_size": 8, "num_attention_heads": 2, "num_key_value_heads": 3, "num_hidden_layers": 1, "intermediate_size": 4}""", CheckpointErrorKind.InvalidValue, "num_key_value_heads")]
    [InlineData("""{"model_type": "qwen2_moe", "vocab_size": 8, "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 4, "num_experts": 4, "num_experts_per_tok": 5, "moe_intermediate_size": 4}""", CheckpointErrorKind.InvalidValue, "num_experts_per_tok")]
    [InlineData("""{"model_type": "qwen2_moe", "vocab_size": 8, "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 4, "rope_scaling": {"rope_type": "yarn", "factor": 4}}""", CheckpointErrorKind.InvalidValue, "rope_scaling.rope_type")]
    public void BadConfigsNameTheFileAndKey(string json, CheckpointErrorKind kind, string? key)
    {
        var e = Assert.Throws<CheckpointException>(() => ModelConfig.Parse(json, "/models/x/config.json"));
        Assert.Equal(kind, e.Kind);
        Assert.Equal(key, e.Key);
        Assert.Contains("/models/x/config.json", e.Message);
        if (key is not null) Assert.Contains(key, e.Message);
    }

    [Fact]
    public void LoadReportsMissingDirectoryAndMissingConfig()
    {
        var missing = Path.Combine(Path.GetTempPath(), "fse-no-such-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(CheckpointErrorKind.DirectoryNotFound, Assert.Throws<CheckpointException>(() => ModelConfig.Load(missing)).Kind);
        var empty = Directory.CreateTempSubdirectory("fse-empty-").FullName;
        try
        {
            var e = Assert.Throws<CheckpointException>(() => ModelConfig.Load(empty));
            Assert.Equal(CheckpointErrorKind.FileNotFound, e.Kind);
            Assert.Contains(empty, e.Message);
        }
        finally { Directory.Delete(empty, true); }
    }
}
