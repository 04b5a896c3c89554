namespace Fse.Runtime.Checkpoints;

/// <summary>The model families the runtime serves, by their HF <c>model_type</c>.</summary>
public enum ModelArchitecture
{
    Qwen2Moe,
    Qwen3Next,
    Glm4Moe,
}

/// <summary>How a layer mixes tokens.</summary>
public enum AttentionKind
{
    Full,
    Linear,
}

/// <summary>What a layer's feed-forward block is.</summary>
public enum FeedForwardKind
{
    Dense,
    Moe,
}

/// <summary>How the router scores experts (SEMANTICS.md §1).</summary>
public enum RouterScoring
{
    /// <summary>Qwen: softmax over E, top-k, optional renormalisation, sigmoid-gated shared expert.</summary>
    Softmax,

    /// <summary>DeepSeek/GLM: sigmoid scores, biased grouped top-k, rsf on routed slots, ungated shared experts.</summary>
    SigmoidGrouped,
}

public static class ModelArchitectureNames
{
    public static string ToModelType(this ModelArchitecture a) => a switch
    {
        ModelArchitecture.Qwen2Moe => "qwen2_moe",
        ModelArchitecture.Qwen3Next => "qwen3_next",
        ModelArchitecture.Glm4Moe => "glm4_moe",
        _ => throw new ArgumentOutOfRangeException(nameof(a)),
    };

    public static bool TryParse(string modelType, out ModelArchitecture architecture)
    {
        switch (modelType)
        {
            case "qwen2_moe": architecture = ModelArchitecture.Qwen2Moe; return true;
            case "qwen3_next": architecture = ModelArchitecture.Qwen3Next; return true;
            case "glm4_moe": architecture = ModelArchitecture.Glm4Moe; return true;
            default: architecture = default; return false;
        }
    }

    public static readonly IReadOnlyList<string> Supported = ["qwen2_moe", "qwen3_next", "glm4_moe"];
}
