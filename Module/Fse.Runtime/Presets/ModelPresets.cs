namespace Fse.Runtime.Presets;

/// <summary>
/// The named presets. The real ones carry the published config.json values of their hub repositories (with
/// <c>num_nextn_predict_layers</c> set to 0 for GLM, since a written checkpoint holds no next-n layer); the tiny ones
/// keep every structural feature of their family at sizes a CPU runs in milliseconds.
/// </summary>
public static class ModelPresets
{
    public const string Qwen3Next80B = "qwen3-next-80b-a3b";
    public const string Qwen15MoeA27B = "qwen1.5-moe-a2.7b";
    public const string Glm45Air = "glm-4.5-air";
    public const string TinyQwen3Next = "tiny-qwen3-next";
    public const string TinyQwen2Moe = "tiny-qwen2-moe";
    public const string TinyGlm4Moe = "tiny-glm4-moe";

    private static readonly Lazy<IReadOnlyList<ModelPreset>> Presets = new(Build);

    /// <summary>Every preset name, real models first.</summary>
    public static IReadOnlyList<string> Names { get; } =
        [Qwen3Next80B, Qwen15MoeA27B, Glm45Air, TinyQwen3Next, TinyQwen2Moe, TinyGlm4Moe];

    public static IReadOnlyList<ModelPreset> All => Presets.Value;

    public static bool TryGet(string name, out ModelPreset preset)
    {
        preset = All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))!;
        return preset is not null;
    }

    public static ModelPreset Get(string name) => TryGet(name, out var p) ? p
        : throw new ArgumentException($"Unknown model preset '{name}'; presets: {string.Join(", ", Names)}.", nameof(name));

    private static IReadOnlyList<ModelPreset> Build() =>
    [
        new(Qwen3Next80B, "Qwen3-Next-80B-A3B-Instruct: 48 layers (3 Gated DeltaNet : 1 gated full attention), 512 experts top-10, one shared expert.",
            "Qwen/Qwen3-Next-80B-A3B-Instruct", false, """
            {
              "architectures": ["Qwen3NextForCausalLM"],
              "attention_bias": false,
              "attention_dropout": 0.0,
              "bos_token_id": 151643,
              "decoder_sparse_step": 1,
              "eos_token_id": 151645,
              "full_attention_interval": 4,
              "head_dim": 256,
              "hidden_act": "silu",
              "hidden_size": 2048,
              "initializer_range": 0.02,
              "intermediate_size": 5120,
              "linear_conv_kernel_dim": 4,
              "linear_key_head_dim": 128,
              "linear_num_key_heads": 16,
              "linear_num_value_heads": 32,
              "linear_value_head_dim": 128,
              "max_position_embeddings": 262144,
              "mlp_only_layers": [],
              "model_type": "qwen3_next",
              "moe_intermediate_size": 512,
              "norm_topk_prob": true,
              "num_attention_heads": 16,
              "num_experts": 512,
              "num_experts_per_tok": 10,
              "num_hidden_layers": 48,
              "num_key_value_heads": 2,
              "output_router_logits": false,
              "partial_rotary_factor": 0.25,
              "rms_norm_eps": 1e-06,
              "rope_scaling": null,
              "rope_theta": 10000000,
              "router_aux_loss_coef": 0.001,
              "shared_expert_intermediate_size": 512,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "use_cache": true,
              "use_sliding_window": false,
              "vocab_size": 151936
            }
            """),
        new(Qwen15MoeA27B, "Qwen1.5-MoE-A2.7B: 24 layers, 60 experts top-4 (not renormalised), a shared expert 4x the expert width.",
            "Qwen/Qwen1.5-MoE-A2.7B", false, """
            {
              "architectures": ["Qwen2MoeForCausalLM"],
              "attention_dropout": 0.0,
              "bos_token_id": 151643,
              "decoder_sparse_step": 1,
              "eos_token_id": 151643,
              "hidden_act": "silu",
              "hidden_size": 2048,
              "initializer_range": 0.02,
              "intermediate_size": 5632,
              "max_position_embeddings": 8192,
              "max_window_layers": 21,
              "model_type": "qwen2_moe",
              "moe_intermediate_size": 1408,
              "norm_topk_prob": false,
              "num_attention_heads": 16,
              "num_experts": 60,
              "num_experts_per_tok": 4,
              "num_hidden_layers": 24,
              "num_key_value_heads": 16,
              "output_router_logits": false,
              "rms_norm_eps": 1e-06,
              "rope_theta": 1000000.0,
              "router_aux_loss_coef": 0.001,
              "shared_expert_intermediate_size": 5632,
              "sliding_window": 32768,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "use_cache": true,
              "use_sliding_window": false,
              "vocab_size": 151936
            }
            """),
        new(Glm45Air, "GLM-4.5-Air: 46 layers (the first dense), 128 experts top-8 with sigmoid routing and a correction bias, one shared expert.",
            "zai-org/GLM-4.5-Air", false, """
            {
              "architectures": ["Glm4MoeForCausalLM"],
              "attention_bias": true,
              "attention_dropout": 0.0,
              "eos_token_id": [151329, 151336, 151338],
              "first_k_dense_replace": 1,
              "head_dim": 128,
              "hidden_act": "silu",
              "hidden_size": 4096,
              "initializer_range": 0.02,
              "intermediate_size": 10944,
              "max_position_embeddings": 131072,
              "model_type": "glm4_moe",
              "moe_intermediate_size": 1408,
              "n_group": 1,
              "n_routed_experts": 128,
              "n_shared_experts": 1,
              "norm_topk_prob": true,
              "num_attention_heads": 96,
              "num_experts_per_tok": 8,
              "num_hidden_layers": 46,
              "num_key_value_heads": 8,
              "num_nextn_predict_layers": 0,
              "pad_token_id": 151329,
              "partial_rotary_factor": 0.5,
              "rms_norm_eps": 1e-05,
              "rope_scaling": null,
              "rope_theta": 1000000,
              "routed_scaling_factor": 1.0,
              "tie_word_embeddings": false,
              "topk_group": 1,
              "torch_dtype": "bfloat16",
              "use_cache": true,
              "use_qk_norm": false,
              "vocab_size": 151552
            }
            """),
        new(TinyQwen3Next, "Tiny qwen3_next: hidden 64, 4 layers (3 Gated DeltaNet + 1 full attention), 16 experts top-4 of width 32, shared width 32, vocab 2048.",
            "synthetic", true, """
            {
              "architectures": ["Qwen3NextForCausalLM"],
              "attention_bias": false,
              "attention_dropout": 0.0,
              "decoder_sparse_step": 1,
              "full_attention_interval": 4,
              "head_dim": 16,
              "hidden_act": "silu",
              "hidden_size": 64,
              "initializer_range": 0.02,
              "intermediate_size": 128,
              "linear_conv_kernel_dim": 4,
              "linear_key_head_dim": 16,
              "linear_num_key_heads": 2,
              "linear_num_value_heads": 4,
              "linear_value_head_dim": 16,
              "max_position_embeddings": 4096,
              "mlp_only_layers": [],
              "model_type": "qwen3_next",
              "moe_intermediate_size": 32,
              "norm_topk_prob": true,
              "num_attention_heads": 4,
              "num_experts": 16,
              "num_experts_per_tok": 4,
              "num_hidden_layers": 4,
              "num_key_value_heads": 2,
              "partial_rotary_factor": 0.25,
              "rms_norm_eps": 1e-06,
              "rope_scaling": null,
              "rope_theta": 10000000,
              "router_aux_loss_coef": 0.001,
              "shared_expert_intermediate_size": 32,
              "tie_word_embeddings": false,
              "torch_dtype": "float32",
              "use_cache": true,
              "vocab_size": 2048
            }
            """),
        new(TinyQwen2Moe, "Tiny qwen2_moe: hidden 64, 4 layers (layer 2 dense), 8 experts top-2 of width 32 (not renormalised), shared width 80 (3 FSE slots, zero-padded), vocab 2048.",
            "synthetic", true, """
            {
              "architectures": ["Qwen2MoeForCausalLM"],
              "attention_dropout": 0.0,
              "decoder_sparse_step": 1,
              "hidden_act": "silu",
              "hidden_size": 64,
              "initializer_range": 0.02,
              "intermediate_size": 96,
              "max_position_embeddings": 4096,
              "max_window_layers": 4,
              "mlp_only_layers": [2],
              "model_type": "qwen2_moe",
              "moe_intermediate_size": 32,
              "norm_topk_prob": false,
              "num_attention_heads": 4,
              "num_experts": 8,
              "num_experts_per_tok": 2,
              "num_hidden_layers": 4,
              "num_key_value_heads": 2,
              "rms_norm_eps": 1e-06,
              "rope_theta": 1000000.0,
              "router_aux_loss_coef": 0.001,
              "shared_expert_intermediate_size": 80,
              "sliding_window": 4096,
              "tie_word_embeddings": false,
              "torch_dtype": "float32",
              "use_cache": true,
              "use_sliding_window": false,
              "vocab_size": 2048
            }
            """),
        new(TinyGlm4Moe, "Tiny glm4_moe: hidden 64, 3 layers (the first dense), 16 experts top-4 in 4 groups (best 2 kept), rsf 2.5, 2 shared experts, qk-norm, q/k/v bias, vocab 2048.",
            "synthetic", true, """
            {
              "architectures": ["Glm4MoeForCausalLM"],
              "attention_bias": true,
              "attention_dropout": 0.0,
              "first_k_dense_replace": 1,
              "head_dim": 16,
              "hidden_act": "silu",
              "hidden_size": 64,
              "initializer_range": 0.02,
              "intermediate_size": 128,
              "max_position_embeddings": 4096,
              "model_type": "glm4_moe",
              "moe_intermediate_size": 32,
              "n_group": 4,
              "n_routed_experts": 16,
              "n_shared_experts": 2,
              "norm_topk_prob": true,
              "num_attention_heads": 4,
              "num_experts_per_tok": 4,
              "num_hidden_layers": 3,
              "num_key_value_heads": 2,
              "num_nextn_predict_layers": 0,
              "partial_rotary_factor": 0.5,
              "rms_norm_eps": 1e-05,
              "rope_scaling": null,
              "rope_theta": 1000000,
              "routed_scaling_factor": 2.5,
              "tie_word_embeddings": false,
              "topk_group": 2,
              "torch_dtype": "float32",
              "use_cache": true,
              "use_qk_norm": true,
              "vocab_size": 2048
            }
            """),
    ];
}
