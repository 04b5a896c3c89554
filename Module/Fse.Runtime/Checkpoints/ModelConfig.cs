using System.Text.Json;

namespace Fse.Runtime.Checkpoints;

/// <summary>
/// A checkpoint's <c>config.json</c>, normalised across qwen2_moe, qwen3_next and glm4_moe, and across
/// the hub layout (top-level <c>rope_theta</c>, <c>torch_dtype</c>) and the newer one (<c>rope_parameters</c>, <c>dtype</c>).
/// Defaults are those of the HF transformers config classes.
/// </summary>
public sealed record ModelConfig
{
    public required ModelArchitecture Architecture { get; init; }
    public string ModelType => Architecture.ToModelType();
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public required double PartialRotaryFactor { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required bool TieWordEmbeddings { get; init; }

    /// <summary>Bias on q/k/v projections (qwen2_moe always, glm4_moe when <c>attention_bias</c>).</summary>
    public required bool QkvBias { get; init; }

    /// <summary>Per-head RMSNorm on q and k before rotary.</summary>
    public required bool QkNorm { get; init; }

    /// <summary>Qwen3-Next's zero-centred RMSNorm: <c>x/rms(x)·(1+w)</c> instead of <c>·w</c>.</summary>
    public required bool ZeroCenteredNorm { get; init; }

    /// <summary>Qwen3-Next full attention: q_proj also yields a gate; output is multiplied by sigmoid(gate).</summary>
    public required bool AttentionOutputGate { get; init; }

    /// <summary>Checkpoint dtype as written (<c>bfloat16</c>, <c>float16</c>, <c>float32</c>).</summary>
    public required string DType { get; init; }

    public required int NumExperts { get; init; }
    public required int NumExpertsPerTok { get; init; }
    public required int MoeIntermediateSize { get; init; }

    /// <summary>Total width of the shared expert MLP (qwen: <c>shared_expert_intermediate_size</c>; glm: <c>n_shared_experts·moe_intermediate_size</c>).</summary>
    public required int SharedExpertIntermediateSize { get; init; }

    /// <summary>Number of shared experts as the checkpoint declares them (qwen: 1 when present; glm: <c>n_shared_experts</c>).</summary>
    public required int NumSharedExperts { get; init; }

    /// <summary>Whether a sigmoid gate <c>shared_expert_gate</c> [1,H] scales the shared expert (Qwen) or it has weight 1 (GLM).</summary>
    public required bool SharedExpertGate { get; init; }

    public required bool NormTopkProb { get; init; }
    public required RouterScoring Scoring { get; init; }
    public required int NGroup { get; init; }
    public required int TopkGroup { get; init; }
    public required double RoutedScalingFactor { get; init; }
    public required int DecoderSparseStep { get; init; }
    public required IReadOnlyList<int> MlpOnlyLayers { get; init; }
    public required int FirstKDenseReplace { get; init; }

    public required IReadOnlyList<AttentionKind> LayerTypes { get; init; }
    public required int LinearConvKernelDim { get; init; }
    public required int LinearKeyHeadDim { get; init; }
    public required int LinearValueHeadDim { get; init; }
    public required int LinearNumKeyHeads { get; init; }
    public required int LinearNumValueHeads { get; init; }

    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Rotary dimensions per head: the first <c>HeadDim·partial_rotary_factor</c> (even).</summary>
    public int RotaryDim => (int)(HeadDim * PartialRotaryFactor) / 2 * 2;

    /// <summary>
    /// Expert slots the shared expert occupies under FSE: the shared width in chunks of the routed width,
    /// the last zero-padded (SEMANTICS.md §2.3).
    /// </summary>
    public int SharedExpertSlots =>
        SharedExpertIntermediateSize == 0 || MoeIntermediateSize == 0 ? 0
        : (SharedExpertIntermediateSize + MoeIntermediateSize - 1) / MoeIntermediateSize;

    public FeedForwardKind FeedForwardOf(int layer)
    {
        if (NumExperts <= 0) return FeedForwardKind.Dense;
        if (Architecture == ModelArchitecture.Glm4Moe)
            return layer >= FirstKDenseReplace ? FeedForwardKind.Moe : FeedForwardKind.Dense;
        bool moe = !MlpOnlyLayers.Contains(layer) && (layer + 1) % DecoderSparseStep == 0;
        return moe ? FeedForwardKind.Moe : FeedForwardKind.Dense;
    }

    public int BytesPerElement => DTypeInfo.BytesPerElement(DType);

    public const string FileName = "config.json";

    /// <summary>Reads <c>config.json</c> from a checkpoint directory.</summary>
    public static ModelConfig Load(string directory)
    {
        if (!Directory.Exists(directory))
            throw new CheckpointException(CheckpointErrorKind.DirectoryNotFound, directory, $"Model directory '{directory}' does not exist.");
        var path = System.IO.Path.Combine(directory, FileName);
        if (!File.Exists(path))
            throw new CheckpointException(CheckpointErrorKind.FileNotFound, path, $"'{directory}' has no {FileName}: not a Hugging Face checkpoint directory.");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses config JSON; <paramref name="path"/> is only used in error messages.</summary>
    public static ModelConfig Parse(string json, string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new CheckpointException(CheckpointErrorKind.MalformedJson, path,
                $"'{path}' is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", inner: e);
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(CheckpointErrorKind.MalformedJson, path, $"'{path}' must hold a JSON object.");
            return FromJson(new JsonReader(doc.RootElement, path), path);
        }
    }

    private static ModelConfig FromJson(JsonReader j, string path)
    {
        var modelType = j.String("model_type") ?? throw j.Missing("model_type");
        if (!ModelArchitectureNames.TryParse(modelType, out var arch))
            throw new CheckpointException(CheckpointErrorKind.UnknownModelType, path,
                $"'{path}': model_type '{modelType}' is not supported; supported: {string.Join(", ", ModelArchitectureNames.Supported)}.", "model_type");

        var rope = j.Child("rope_parameters") ?? j.Child("rope_scaling");
        var ropeType = rope?.String("rope_type") ?? rope?.String("type");
        if (ropeType is not null && ropeType != "default")
            throw j.Invalid(j.Has("rope_parameters") ? "rope_parameters.rope_type" : "rope_scaling.rope_type",
                $"is '{ropeType}'; only default rotary embeddings are supported");

        int hidden = Positive(j, "hidden_size");
        int heads = Positive(j, "num_attention_heads");
        int layers = Positive(j, "num_hidden_layers");
        int headDim = j.TryInt("head_dim") ?? hidden / heads;
        double defaultPrf = arch switch { ModelArchitecture.Qwen3Next => 0.25, ModelArchitecture.Glm4Moe => 0.5, _ => 1.0 };
        // transformers 5.x reads rope_parameters and may leave a stale top-level copy beside it: the nested value wins.
        double prf = rope?.TryDouble("partial_rotary_factor") ?? j.TryDouble("partial_rotary_factor") ?? defaultPrf;
        double theta = rope?.TryDouble("rope_theta") ?? j.TryDouble("rope_theta") ?? 10000.0;
        if (prf <= 0 || prf > 1) throw j.Invalid("partial_rotary_factor", $"is {prf}; it must lie in (0, 1]");

        int moeInter = j.Int("moe_intermediate_size", 0);
        int experts, sharedWidth, sharedCount;
        bool sharedGate;
        RouterScoring scoring;
        if (arch == ModelArchitecture.Glm4Moe)
        {
            experts = j.TryInt("n_routed_experts") ?? j.Int("num_experts", 128);
            sharedCount = j.Int("n_shared_experts", 1);
            sharedWidth = sharedCount * moeInter;
            sharedGate = false;
            scoring = RouterScoring.SigmoidGrouped;
        }
        else
        {
            experts = j.Int("num_experts", 0);
            sharedWidth = j.Int("shared_expert_intermediate_size", 0);
            sharedCount = sharedWidth > 0 ? 1 : 0;
            sharedGate = sharedWidth > 0;
            scoring = RouterScoring.Softmax;
        }

        var layerTypes = new AttentionKind[layers];
        if (arch == ModelArchitecture.Qwen3Next)
        {
            var names = j.StringArray("layer_types");
            if (names is not null)
            {
                if (names.Length != layers)
                    throw j.Invalid("layer_types", $"has {names.Length} entries but num_hidden_layers is {layers}");
                for (int i = 0; i < layers; i++)
                    layerTypes[i] = names[i] switch
                    {
                        "full_attention" or "attention" => AttentionKind.Full,
                        "linear_attention" => AttentionKind.Linear,
                        _ => throw j.Invalid("layer_types", $"entry {i} is '{names[i]}'; expected 'full_attention' or 'linear_attention'"),
                    };
            }
            else
            {
                int interval = j.Int("full_attention_interval", 4);
                if (interval < 1) throw j.Invalid("full_attention_interval", "must be at least 1");
                for (int i = 0; i < layers; i++)
                    layerTypes[i] = (i + 1) % interval == 0 ? AttentionKind.Full : AttentionKind.Linear;
            }
        }

        var config = new ModelConfig
        {
            Architecture = arch,
            VocabSize = Positive(j, "vocab_size"),
            HiddenSize = hidden,
            IntermediateSize = j.Int("intermediate_size", 0),
            NumLayers = layers,
            NumHeads = heads,
            NumKvHeads = j.TryInt("num_key_value_heads") ?? heads,
            HeadDim = headDim,
            RmsNormEps = j.Double("rms_norm_eps", arch == ModelArchitecture.Glm4Moe ? 1e-5 : 1e-6),
            RopeTheta = theta,
            PartialRotaryFactor = prf,
            MaxPositionEmbeddings = j.Int("max_position_embeddings", 32768),
            TieWordEmbeddings = j.Bool("tie_word_embeddings", false),
            QkvBias = arch switch
            {
                ModelArchitecture.Qwen2Moe => j.Bool("qkv_bias", true),
                ModelArchitecture.Glm4Moe => j.Bool("attention_bias", false),
                _ => j.Bool("attention_bias", false),
            },
            QkNorm = arch switch
            {
                ModelArchitecture.Qwen3Next => true,
                ModelArchitecture.Glm4Moe => j.Bool("use_qk_norm", false),
                _ => false,
            },
            ZeroCenteredNorm = arch == ModelArchitecture.Qwen3Next,
            AttentionOutputGate = arch == ModelArchitecture.Qwen3Next,
            DType = j.String("dtype") ?? j.String("torch_dtype") ?? "float32",
            NumExperts = experts,
            NumExpertsPerTok = j.Int("num_experts_per_tok", experts > 0 ? 1 : 0),
            MoeIntermediateSize = moeInter,
            SharedExpertIntermediateSize = sharedWidth,
            NumSharedExperts = sharedCount,
            SharedExpertGate = sharedGate,
            NormTopkProb = j.Bool("norm_topk_prob", arch != ModelArchitecture.Qwen2Moe),
            Scoring = scoring,
            NGroup = j.Int("n_group", 1),
            TopkGroup = j.Int("topk_group", 1),
            RoutedScalingFactor = j.Double("routed_scaling_factor", 1.0),
            DecoderSparseStep = j.Int("decoder_sparse_step", 1),
            MlpOnlyLayers = j.IntArray("mlp_only_layers") ?? [],
            FirstKDenseReplace = j.Int("first_k_dense_replace", arch == ModelArchitecture.Glm4Moe ? 1 : 0),
            LayerTypes = layerTypes,
            LinearConvKernelDim = j.Int("linear_conv_kernel_dim", 4),
            LinearKeyHeadDim = j.Int("linear_key_head_dim", 128),
            LinearValueHeadDim = j.Int("linear_value_head_dim", 128),
            LinearNumKeyHeads = j.Int("linear_num_key_heads", 16),
            LinearNumValueHeads = j.Int("linear_num_value_heads", 32),
            BosTokenId = j.TryInt("bos_token_id"),
            EosTokenIds = j.IntArray("eos_token_id") ?? [],
        };
        config.Validate(j);
        return config;
    }

    private void Validate(JsonReader j)
    {
        if (!DTypeInfo.IsKnown(DType))
            throw j.Invalid(j.Has("dtype") ? "dtype" : "torch_dtype", $"is '{DType}'; supported: {string.Join(", ", DTypeInfo.Names)}");
        if (NumKvHeads < 1 || NumHeads % NumKvHeads != 0)
            throw j.Invalid("num_key_value_heads", $"is {NumKvHeads}; it must divide num_attention_heads ({NumHeads})");
        if (DecoderSparseStep < 1) throw j.Invalid("decoder_sparse_step", "must be at least 1");
        if (NumExperts > 0)
        {
            if (NumExpertsPerTok < 1 || NumExpertsPerTok > NumExperts)
                throw j.Invalid("num_experts_per_tok", $"is {NumExpertsPerTok}; it must lie in 1..{NumExperts} (the number of experts)");
            if (MoeIntermediateSize < 1) throw j.Invalid("moe_intermediate_size", "must be positive for a model with experts");
            if (Scoring == RouterScoring.SigmoidGrouped)
            {
                if (NGroup < 1 || NumExperts % NGroup != 0)
                    throw j.Invalid("n_group", $"is {NGroup}; it must divide the number of experts ({NumExperts})");
                if (TopkGroup < 1 || TopkGroup > NGroup)
                    throw j.Invalid("topk_group", $"is {TopkGroup}; it must lie in 1..n_group ({NGroup})");
            }
        }
        bool anyDense = Enumerable.Range(0, NumLayers).Any(i => FeedForwardOf(i) == FeedForwardKind.Dense);
        if (anyDense && IntermediateSize < 1)
            throw j.Invalid("intermediate_size", "must be positive: the model has dense MLP layers");
        if (Architecture == ModelArchitecture.Qwen3Next && LinearNumValueHeads % LinearNumKeyHeads != 0)
            throw j.Invalid("linear_num_value_heads", $"is {LinearNumValueHeads}; it must be a multiple of linear_num_key_heads ({LinearNumKeyHeads})");
    }

    private static int Positive(JsonReader j, string key)
    {
        int v = j.Int(key);
        if (v < 1) throw j.Invalid(key, $"is {v}; it must be positive");
        return v;
    }
}
