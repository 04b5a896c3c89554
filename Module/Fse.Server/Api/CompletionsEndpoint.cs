using System.Text.Json;
using Fse.Runtime.Serving;
using Microsoft.AspNetCore.Http;

namespace Fse.Server.Api;

/// <summary>
/// <c>POST /v1/completions</c>: OpenAI's legacy completions as vLLM serves them. <c>prompt</c> is a string, a list of
/// token ids, or a list of either (one choice each); <c>echo</c> with <c>logprobs</c> gives prompt-token log probabilities
/// (the first token's is null), which lm-eval's loglikelihood requests read.
/// </summary>
internal static class CompletionsEndpoint
{
    /// <summary>vLLM's default max_tokens for completions.</summary>
    public const int DefaultMaxTokens = 16;

    public static async Task HandleAsync(HttpContext context, ServerState state)
    {
        var ct = context.RequestAborted;
        using var doc = await JsonFields.ReadAsync(context.Request, state.Options.MaxRequestBytes, ct).ConfigureAwait(false);
        var f = new JsonFields(doc.RootElement);
        var p = GenerationParameters.Parse(f, chat: false);
        GenerationDriver.CheckModel(state, p.Model);
        if (f.Has("suffix")) throw ApiException.BadRequest("suffix is not supported by this server.", "suffix");
        bool echo = f.Bool("echo") ?? false;
        int? logprobs = f.Int("logprobs", 0, 20);
        bool addSpecial = f.Bool("add_special_tokens") ?? true;
        var prompts = ParsePrompts(f, state, addSpecial);
        var items = prompts.Select(pr => (pr, GenerationDriver.Request(p, pr.TokenIds, DefaultMaxTokens, logprobs, echo ? logprobs : null))).ToList();
        var text = new TextOptions { StopStrings = p.Stop, IncludeStopString = p.IncludeStopString, SkipSpecialTokens = p.SkipSpecialTokens };
        var choices = GenerationDriver.Submit(state, items, text);
        var response = new ResponseIdentity("cmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), state.ServedName);
        if (p.Stream) await StreamAsync(context, state, p, choices, echo, logprobs, response).ConfigureAwait(false);
        else await CompleteAsync(context, state, p, choices, echo, logprobs, response).ConfigureAwait(false);
    }

    private static List<PromptInput> ParsePrompts(JsonFields f, ServerState state, bool addSpecial)
    {
        if (f.Raw("prompt") is not { } prompt) throw ApiException.BadRequest("'prompt' is required.", "prompt");
        var list = new List<PromptInput>();
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                list.Add(FromText(state, prompt.GetString()!, addSpecial));
                break;
            case JsonValueKind.Array:
                if (prompt.GetArrayLength() == 0) throw ApiException.BadRequest("'prompt' is an empty list.", "prompt");
                var first = prompt[0].ValueKind;
                if (first == JsonValueKind.Number)
                {
                    list.Add(new PromptInput(JsonFields.TokenIds(prompt, "prompt"), null));
                    break;
                }
                foreach (var item in prompt.EnumerateArray())
                {
                    list.Add(item.ValueKind switch
                    {
                        JsonValueKind.String when first == JsonValueKind.String => FromText(state, item.GetString()!, addSpecial),
                        JsonValueKind.Array when first == JsonValueKind.Array => new PromptInput(JsonFields.TokenIds(item, "prompt"), null),
                        _ => throw ApiException.BadRequest(
                            "'prompt' must be a string, a list of token ids, a list of strings or a list of token-id lists (not a mix).", "prompt"),
                    });
                }
                break;
            default:
                throw ApiException.BadRequest($"'prompt' must be a string or a list, got {JsonFields.Describe(prompt)}.", "prompt");
        }
        foreach (var pr in list)
            if (pr.TokenIds.Length == 0) throw ApiException.BadRequest("A prompt is empty: at least one token is needed.", "prompt");
        return list;
    }

    private static PromptInput FromText(ServerState state, string text, bool addSpecial)
    {
        var tokenizer = state.Tokenizer ?? throw ApiException.BadRequest(
            $"The model '{state.ServedName}' was loaded without a tokenizer, so text prompts cannot be served: send token ids as the prompt.", "prompt");
        return new PromptInput(tokenizer.Encode(text, addSpecial), text);
    }

    private static string PromptText(ServerState state, PromptInput p) =>
        p.Text ?? (state.Tokenizer is { } t ? t.Decode(p.TokenIds) : "");

    private static async Task CompleteAsync(HttpContext context, ServerState state, GenerationParameters p, List<ChoiceState> choices,
        bool echo, int? logprobs, ResponseIdentity id)
    {
        await GenerationDriver.CollectAsync(state, choices, context.RequestAborted).ConfigureAwait(false);
        if (choices.FirstOrDefault(c => c.Failed) is { } failed) throw GenerationDriver.FailureOf(failed);
        var body = JsonOut.Write(w =>
        {
            w.WriteStartObject();
            id.Write(w, "text_completion");
            w.WriteStartArray("choices");
            foreach (var c in choices)
            {
                w.WriteStartObject();
                w.WriteNumber("index", c.Index);
                w.WriteString("text", (echo ? PromptText(state, c.Prompt) : "") + c.Text);
                w.WritePropertyName("logprobs");
                if (logprobs is { } k)
                {
                    var lp = new CompletionLogprobsWriter(state, k);
                    if (echo) lp.AddPrompt(c.Prompt.TokenIds, c.PromptLogprobs);
                    lp.AddGenerated(c.Tokens);
                    lp.Write(w);
                }
                else w.WriteNullValue();
                w.WriteString("finish_reason", c.FinishReason);
                WriteStopReason(w, c.StopReason);
                if (p.ReturnTokenIds)
                {
                    JsonOut.Ints(w, "prompt_token_ids", c.Prompt.TokenIds);
                    JsonOut.Ints(w, "token_ids", c.Tokens.Select(t => t.TokenId));
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            JsonOut.Usage(w, choices.Sum(c => c.Prompt.TokenIds.Length), choices.Sum(c => c.Run.CompletionTokens));
            w.WriteEndObject();
        });
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task StreamAsync(HttpContext context, ServerState state, GenerationParameters p, List<ChoiceState> choices,
        bool echo, int? logprobs, ResponseIdentity id)
    {
        var ct = context.RequestAborted;
        var sse = new SseWriter(context.Response);
        await sse.StartAsync(ct).ConfigureAwait(false);
        await foreach (var (c, d) in GenerationDriver.MergeAsync(state, choices, ct).ConfigureAwait(false))
        {
            c.Apply(d);
            if (c.Failed)
            {
                await sse.WriteAsync(ApiErrors.Body(GenerationDriver.FailureOf(c)), ct).ConfigureAwait(false);
                continue;
            }
            bool first = !c.Started;
            c.Started = true;
            var chunk = JsonOut.Write(w =>
            {
                w.WriteStartObject();
                id.Write(w, "text_completion");
                w.WriteStartArray("choices");
                w.WriteStartObject();
                w.WriteNumber("index", c.Index);
                w.WriteString("text", (first && echo ? PromptText(state, c.Prompt) : "") + d.Text);
                w.WritePropertyName("logprobs");
                if (logprobs is { } k)
                {
                    var lp = new CompletionLogprobsWriter(state, k, c.LogprobOffset);
                    if (first && echo) lp.AddPrompt(c.Prompt.TokenIds, c.PromptLogprobs);
                    lp.AddGenerated(d.Tokens);
                    lp.Write(w);
                    c.LogprobOffset = lp.EndOffset;
                }
                else w.WriteNullValue();
                w.WriteString("finish_reason", d.FinishReason);
                WriteStopReason(w, d.FinishReason is null ? null : c.StopReason);
                if (p.ReturnTokenIds)
                {
                    if (first) JsonOut.Ints(w, "prompt_token_ids", c.Prompt.TokenIds);
                    JsonOut.Ints(w, "token_ids", d.Tokens.Select(t => t.TokenId));
                }
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            });
            await sse.WriteAsync(chunk, ct).ConfigureAwait(false);
        }
        if (p.IncludeUsage)
        {
            var usage = JsonOut.Write(w =>
            {
                w.WriteStartObject();
                id.Write(w, "text_completion");
                w.WriteStartArray("choices");
                w.WriteEndArray();
                JsonOut.Usage(w, choices.Sum(c => c.Prompt.TokenIds.Length), choices.Sum(c => c.Run.CompletionTokens));
                w.WriteEndObject();
            });
            await sse.WriteAsync(usage, ct).ConfigureAwait(false);
        }
        await sse.DoneAsync(ct).ConfigureAwait(false);
    }

    internal static void WriteStopReason(Utf8JsonWriter w, object? reason)
    {
        w.WritePropertyName("stop_reason");
        switch (reason)
        {
            case string s: w.WriteStringValue(s); break;
            case int i: w.WriteNumberValue(i); break;
            default: w.WriteNullValue(); break;
        }
    }
}

/// <summary>The id, creation time and model every chunk of one response repeats.</summary>
internal sealed record ResponseIdentity(string Id, long Created, string Model)
{
    public void Write(Utf8JsonWriter w, string obj)
    {
        w.WriteString("id", Id);
        w.WriteString("object", obj);
        w.WriteNumber("created", Created);
        w.WriteString("model", Model);
    }
}
