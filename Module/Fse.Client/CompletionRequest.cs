using System.Text.Json.Nodes;

namespace Fse.Client;

/// <summary>A <c>POST /v1/completions</c> body. A prompt is text or token ids.</summary>
public sealed record CompletionRequest
{
    public required string Model { get; init; }
    public string? PromptText { get; init; }
    public IReadOnlyList<int>? PromptTokens { get; init; }
    public int? MaxTokens { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public long? Seed { get; init; }
    public IReadOnlyList<string>? Stop { get; init; }
    public bool? IgnoreEos { get; init; }
    public int? Logprobs { get; init; }
    public bool? Echo { get; init; }

    /// <summary>Extra top-level fields some engines accept (e.g. <c>min_tokens</c>); written as given.</summary>
    public IReadOnlyDictionary<string, JsonNode?>? Extra { get; init; }

    internal JsonObject ToJson(bool stream)
    {
        if ((PromptText is null) == (PromptTokens is null))
            throw new ArgumentException("A completion request needs exactly one of PromptText and PromptTokens.");
        var o = new JsonObject { ["model"] = Model };
        o["prompt"] = PromptText is not null ? JsonValue.Create(PromptText) : new JsonArray([.. PromptTokens!.Select(t => (JsonNode)JsonValue.Create(t))]);
        if (MaxTokens is { } m) o["max_tokens"] = m;
        if (Temperature is { } t) o["temperature"] = t;
        if (TopP is { } p) o["top_p"] = p;
        if (Seed is { } s) o["seed"] = s;
        if (Stop is { Count: > 0 }) o["stop"] = new JsonArray([.. Stop.Select(x => (JsonNode)JsonValue.Create(x))]);
        if (IgnoreEos is { } ie) o["ignore_eos"] = ie;
        if (Logprobs is { } lp) o["logprobs"] = lp;
        if (Echo is { } e) o["echo"] = e;
        if (stream)
        {
            o["stream"] = true;
            o["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        if (Extra is not null)
            foreach (var (k, v) in Extra) o[k] = v?.DeepClone();
        return o;
    }
}
