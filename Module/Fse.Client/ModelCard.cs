using System.Text.Json;

namespace Fse.Client;

/// <summary>
/// An entry of <c>GET /v1/models</c>. fse-server adds <c>fse</c> ("on"/"off"), <c>device</c>, <c>max_model_len</c> and
/// <c>vocab_size</c>; vLLM adds <c>max_model_len</c>; other engines may add nothing.
/// </summary>
public sealed record ModelCard(string Id, string? OwnedBy, int? MaxModelLen, string? Fse, string? Device)
{
    /// <summary>
    /// The number of regular (non-added) token ids, <c>[0, VocabSize)</c>, as HF's <c>tokenizer.vocab_size</c>
    /// counts them; the benchmark draws random prompt ids from it. Null when the server does not say.
    /// </summary>
    public int? VocabSize { get; init; }

    internal static ModelCard Parse(JsonElement e) => new(
        e.TryGetProperty("id", out var id) ? id.GetString() ?? "" : "",
        e.TryGetProperty("owned_by", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() : null,
        e.TryGetProperty("max_model_len", out var m) && m.ValueKind == JsonValueKind.Number ? m.GetInt32() : null,
        e.TryGetProperty("fse", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null,
        e.TryGetProperty("device", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null)
    {
        VocabSize = e.TryGetProperty("vocab_size", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null,
    };
}
