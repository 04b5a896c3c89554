using System.Text.Json;
using Fse.Runtime.Checkpoints;

namespace Fse.Runtime.Tokenization;

/// <summary>What Fse reads from tokenizer_config.json (transformers' tokenizer settings).</summary>
public sealed class TokenizerConfig
{
    public string? EosToken { get; init; }
    public string? BosToken { get; init; }
    public string? PadToken { get; init; }
    public string? UnkToken { get; init; }

    /// <summary>The Jinja chat template: tokenizer_config's chat_template (the "default" one when it is a list), else chat_template.jinja beside it.</summary>
    public string? ChatTemplate { get; init; }

    public static TokenizerConfig Empty { get; } = new();

    public static TokenizerConfig Load(string path)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new CheckpointException(CheckpointErrorKind.MalformedJson, path, $"'{path}' is not valid JSON: {e.Message}", null, e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(CheckpointErrorKind.InvalidValue, path, $"'{path}' must be a JSON object.");
            var template = ChatTemplateOf(root, path);
            if (template is null)
            {
                var jinja = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path) ?? ".", "chat_template.jinja");
                if (File.Exists(jinja)) template = File.ReadAllText(jinja);
            }
            return new TokenizerConfig
            {
                EosToken = TokenOf(root, "eos_token", path),
                BosToken = TokenOf(root, "bos_token", path),
                PadToken = TokenOf(root, "pad_token", path),
                UnkToken = TokenOf(root, "unk_token", path),
                ChatTemplate = template,
            };
        }
    }

    // A special token is written either as its content or as {"content": ..., "__type": "AddedToken", ...}.
    private static string? TokenOf(JsonElement root, string key, string path)
    {
        if (!root.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String) return c.GetString();
        throw new CheckpointException(CheckpointErrorKind.InvalidValue, path, $"'{path}': key '{key}' must be a string or an object with a \"content\" string.", key);
    }

    private static string? ChatTemplateOf(JsonElement root, string path)
    {
        if (!root.TryGetProperty("chat_template", out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String) return v.GetString();
        if (v.ValueKind == JsonValueKind.Array)
        {
            foreach (var t in v.EnumerateArray())
            {
                if (t.ValueKind == JsonValueKind.Object && t.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() == "default"
                    && t.TryGetProperty("template", out var body) && body.ValueKind == JsonValueKind.String)
                    return body.GetString();
            }
            return null;
        }
        throw new CheckpointException(CheckpointErrorKind.InvalidValue, path, $"'{path}': key 'chat_template' must be a string or a list of {{name, template}}.", "chat_template");
    }
}
