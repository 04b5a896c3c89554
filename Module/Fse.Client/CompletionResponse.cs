using System.Text.Json;

namespace Fse.Client;

/// <summary>Token counts a server reports.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens);

/// <summary>Per-token log probabilities as OpenAI's legacy completions API returns them.</summary>
public sealed record CompletionLogprobs(
    IReadOnlyList<string> Tokens,
    IReadOnlyList<double?> TokenLogprobs,
    IReadOnlyList<IReadOnlyDictionary<string, double>?> TopLogprobs,
    IReadOnlyList<int> TextOffset);

public sealed record CompletionChoice(int Index, string Text, string? FinishReason, CompletionLogprobs? Logprobs);

/// <summary>A non-streamed completion, or one streamed chunk (then <see cref="Choices"/> may be empty and <see cref="Usage"/> set).</summary>
public sealed record CompletionResponse(string? Id, string? Model, IReadOnlyList<CompletionChoice> Choices, Usage? Usage)
{
    internal static CompletionResponse Parse(JsonElement root)
    {
        var choices = new List<CompletionChoice>();
        if (root.TryGetProperty("choices", out var cs) && cs.ValueKind == JsonValueKind.Array)
        {
            foreach (var c in cs.EnumerateArray())
            {
                choices.Add(new CompletionChoice(
                    c.TryGetProperty("index", out var i) && i.ValueKind == JsonValueKind.Number ? i.GetInt32() : choices.Count,
                    Str(c, "text") ?? Delta(c) ?? "",
                    Str(c, "finish_reason"),
                    c.TryGetProperty("logprobs", out var lp) && lp.ValueKind == JsonValueKind.Object ? ParseLogprobs(lp) : null));
            }
        }
        Usage? usage = null;
        if (root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object)
            usage = new Usage(Int(u, "prompt_tokens"), Int(u, "completion_tokens"));
        return new CompletionResponse(Str(root, "id"), Str(root, "model"), choices, usage);
    }

    private static string? Delta(JsonElement c) =>
        c.TryGetProperty("delta", out var d) && d.ValueKind == JsonValueKind.Object ? Str(d, "content") : null;

    private static CompletionLogprobs ParseLogprobs(JsonElement lp)
    {
        var tokens = new List<string>();
        var logprobs = new List<double?>();
        var tops = new List<IReadOnlyDictionary<string, double>?>();
        var offsets = new List<int>();
        if (lp.TryGetProperty("tokens", out var t) && t.ValueKind == JsonValueKind.Array)
            foreach (var x in t.EnumerateArray()) tokens.Add(x.GetString() ?? "");
        if (lp.TryGetProperty("token_logprobs", out var l) && l.ValueKind == JsonValueKind.Array)
            foreach (var x in l.EnumerateArray()) logprobs.Add(x.ValueKind == JsonValueKind.Number ? x.GetDouble() : null);
        if (lp.TryGetProperty("top_logprobs", out var tl) && tl.ValueKind == JsonValueKind.Array)
            foreach (var x in tl.EnumerateArray())
                tops.Add(x.ValueKind == JsonValueKind.Object ? x.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetDouble()) : null);
        if (lp.TryGetProperty("text_offset", out var to) && to.ValueKind == JsonValueKind.Array)
            foreach (var x in to.EnumerateArray()) offsets.Add(x.GetInt32());
        return new CompletionLogprobs(tokens, logprobs, tops, offsets);
    }

    private static string? Str(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static int Int(JsonElement e, string key) =>
        e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : 0;
}

/// <summary>One server-sent event of a streamed completion and when it arrived (<see cref="System.Diagnostics.Stopwatch"/> ticks).</summary>
public sealed record StreamChunk(long ArrivedAt, CompletionResponse Body);
