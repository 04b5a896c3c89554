using System.Text.Json;
using System.Text.Json.Nodes;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Presets;

/// <summary>
/// A named model geometry: a config.json in HF layout (the published one for real models) from which a random-weight
/// checkpoint of the exact shapes can be written. <c>layers</c> overrides <c>num_hidden_layers</c>, keeping each family's
/// layer pattern (qwen3_next's <c>full_attention_interval</c>, glm4_moe's leading dense layers, qwen2_moe's mlp_only_layers
/// below the new count).
/// </summary>
public sealed class ModelPreset
{
    private readonly string _configJson;

    internal ModelPreset(string name, string description, string source, bool isTiny, string configJson)
    {
        Name = name;
        Description = description;
        Source = source;
        IsTiny = isTiny;
        _configJson = configJson;
        var config = Config();
        DefaultLayers = config.NumLayers;
        DType = config.DType;
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>Where the numbers come from: a hub repository id, or "synthetic" for the tiny test models.</summary>
    public string Source { get; }

    /// <summary>A small model for tests and the CPU backend.</summary>
    public bool IsTiny { get; }

    public int DefaultLayers { get; }

    /// <summary>The dtype the preset is written in unless another is asked for.</summary>
    public string DType { get; }

    /// <summary>The config.json text (indented, HF layout) for <paramref name="layers"/> layers in <paramref name="dtype"/>.</summary>
    public string ConfigJson(int? layers = null, string? dtype = null)
    {
        var root = JsonNode.Parse(_configJson)!.AsObject();
        if (dtype is not null)
        {
            if (!DTypeInfo.IsKnown(dtype))
                throw new ArgumentException($"Unknown dtype '{dtype}'; supported: {string.Join(", ", DTypeInfo.Names)}.", nameof(dtype));
            root["torch_dtype"] = dtype;
        }
        if (layers is int n)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, nameof(layers));
            root["num_hidden_layers"] = n;
            if (root["mlp_only_layers"] is JsonArray only)
                root["mlp_only_layers"] = new JsonArray([.. only.Select(x => x!.GetValue<int>()).Where(i => i < n).Select(i => (JsonNode)JsonValue.Create(i))]);
            if (root["first_k_dense_replace"] is JsonNode k)
                root["first_k_dense_replace"] = Math.Min(k.GetValue<int>(), n);
            if (root["max_window_layers"] is JsonNode w)
                root["max_window_layers"] = Math.Min(w.GetValue<int>(), n);
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    public ModelConfig Config(int? layers = null, string? dtype = null) =>
        ModelConfig.Parse(ConfigJson(layers, dtype), $"preset '{Name}'");

    public override string ToString() => Name;
}
