using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Tests.Models;

/// <summary>Tiny configs of each family that exercise every variant: dense layers, shared width ≠ expert width, several shared experts, grouped routing.</summary>
internal static class TinyConfigs
{
    public static ModelConfig Qwen3Next => ModelConfig.Parse("""
    {"model_type": "qwen3_next", "vocab_size": 97, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 4,
     "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "partial_rotary_factor": 0.5, "rope_theta": 10000,
     "layer_types": ["linear_attention", "full_attention", "linear_attention", "full_attention"],
     "linear_conv_kernel_dim": 4, "linear_key_head_dim": 8, "linear_value_head_dim": 6, "linear_num_key_heads": 2, "linear_num_value_heads": 4,
     "num_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 16, "shared_expert_intermediate_size": 16,
     "norm_topk_prob": true, "mlp_only_layers": [2], "torch_dtype": "float32"}
    """, "tiny-qwen3-next");

    public static ModelConfig Qwen2Moe => ModelConfig.Parse("""
    {"model_type": "qwen2_moe", "vocab_size": 89, "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 3,
     "num_attention_heads": 4, "num_key_value_heads": 2, "rope_theta": 10000,
     "num_experts": 6, "num_experts_per_tok": 3, "moe_intermediate_size": 16, "shared_expert_intermediate_size": 40,
     "norm_topk_prob": false, "mlp_only_layers": [1], "torch_dtype": "float32"}
    """, "tiny-qwen2-moe");

    public static ModelConfig Glm4Moe => ModelConfig.Parse("""
    {"model_type": "glm4_moe", "vocab_size": 83, "hidden_size": 32, "intermediate_size": 40, "num_hidden_layers": 3,
     "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 8, "partial_rotary_factor": 0.5, "rope_theta": 10000,
     "n_routed_experts": 8, "n_shared_experts": 2, "num_experts_per_tok": 3, "moe_intermediate_size": 16,
     "n_group": 4, "topk_group": 2, "routed_scaling_factor": 2.5, "first_k_dense_replace": 1, "norm_topk_prob": true,
     "use_qk_norm": true, "attention_bias": true, "torch_dtype": "float32"}
    """, "tiny-glm4-moe");

    public static TheoryData<string> Names => new() { "qwen3_next", "qwen2_moe", "glm4_moe" };

    public static ModelConfig ByName(string name) => name switch
    {
        "qwen3_next" => Qwen3Next,
        "qwen2_moe" => Qwen2Moe,
        "glm4_moe" => Glm4Moe,
        _ => throw new ArgumentException(name),
    };
}
