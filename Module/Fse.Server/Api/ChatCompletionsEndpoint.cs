using System.Text;
using System.Text.Json;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Serving;
using Microsoft.AspNetCore.Http;

namespace Fse.Server.Api;

/// <summary>
/// <c>POST /v1/chat/completions</c>: the conversation rendered with the tokenizer's chat template (the generation prompt
/// added), generated like a completion, answered as <c>chat.completion</c> or streamed as <c>chat.completion.chunk</c>s
/// (the first carries the assistant role).
/// </summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ServerState state)
    {
        var ct = context.RequestAborted;
        using var doc = await JsonFields.ReadAsync(context.Request, state.Options.MaxRequestBytes, ct).ConfigureAwait(false);
        var f = new JsonFields(doc.RootElement);
        var p = GenerationParameters.Parse(f, chat: true);
        GenerationDriver.CheckModel(state, p.Model);
        bool logprobs = f.Bool("logprobs") ?? false;
        int? top = f.Int("top_logprobs", 0, 20);
        if (top is not null && !logprobs) throw ApiException.BadRequest("top_logprobs needs logprobs set to true.", "top_logprobs");
        var messages = ParseMessages(f);
        var tokenizer = state.Tokenizer ?? throw ApiException.BadRequest(
            $"The model '{state.ServedName}' was loaded without a tokenizer, so it has no chat template: use /v1/completions with token ids.", "messages");
        string rendered;
        try
        {
            rendered = tokenizer.ApplyChatTemplate(messages, f.Bool("add_generation_prompt") ?? true);
        }
        catch (CheckpointException e)
        {
            throw ApiException.BadRequest($"The chat template cannot render this conversation: {e.Message}", "messages");
        }
        var ids = tokenizer.Encode(rendered, addSpecialTokens: false);
        if (ids.Length == 0) throw ApiException.BadRequest("The conversation renders to no tokens.", "messages");
        var prompt = new PromptInput(ids, rendered);
        int defaultMax = Math.Max(1, state.Engine.MaxModelLen - ids.Length);
        var request = GenerationDriver.Request(p, ids, defaultMax, logprobs ? top ?? 0 : null, null);
        var text = new TextOptions { StopStrings = p.Stop, IncludeStopString = p.IncludeStopString, SkipSpecialTokens = p.SkipSpecialTokens };
        var choices = GenerationDriver.Submit(state, [(prompt, request)], text);
        var id = new ResponseIdentity("chatcmpl-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), state.ServedName);
        if (p.Stream) await StreamAsync(context, state, p, choices, logprobs ? top ?? 0 : null, id).ConfigureAwait(false);
        else await CompleteAsync(context, state, p, choices, logprobs ? top ?? 0 : null, id).ConfigureAwait(false);
    }

    private static List<(string Role, string Content)> ParseMessages(JsonFields f)
    {
        if (f.Raw("messages") is not { } m) throw ApiException.BadRequest("'messages' is required.", "messages");
        if (m.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest($"'messages' must be a list, got {JsonFields.Describe(m)}.", "messages");
        if (m.GetArrayLength() == 0) throw ApiException.BadRequest("'messages' is empty.", "messages");
        var list = new List<(string, string)>();
        foreach (var item in m.EnumerateArray())
        {
            var message = new JsonFields(item.ValueKind == JsonValueKind.Object ? item
                : throw ApiException.BadRequest($"Each message must be an object, got {JsonFields.Describe(item)}.", "messages"));
            var role = message.String("role") ?? throw ApiException.BadRequest("A message has no 'role'.", "messages");
            list.Add((role, Content(message.Raw("content"))));
        }
        return list;
    }

    /// <summary>A message's content: a string, or a list of parts whose text parts are joined.</summary>
    private static string Content(JsonElement? content)
    {
        if (content is not { } c) return "";
        if (c.ValueKind == JsonValueKind.String) return c.GetString()!;
        if (c.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest($"A message's content must be a string or a list of parts, got {JsonFields.Describe(c)}.", "messages");
        var sb = new StringBuilder();
        foreach (var part in c.EnumerateArray())
        {
            var pf = new JsonFields(part.ValueKind == JsonValueKind.Object ? part : throw ApiException.BadRequest("A content part must be an object.", "messages"));
            var type = pf.String("type");
            if (type != "text") throw ApiException.BadRequest($"Content parts of type '{type}' are not supported; only 'text'.", "messages");
            if (sb.Length > 0) sb.Append('\n');
            sb.Append(pf.String("text") ?? "");
        }
        return sb.ToString();
    }

    private static async Task CompleteAsync(HttpContext context, ServerState state, GenerationParameters p, List<ChoiceState> choices, int? top, ResponseIdentity id)
    {
        await GenerationDriver.CollectAsync(state, choices, context.RequestAborted).ConfigureAwait(false);
        var c = choices[0];
        if (c.Failed) throw GenerationDriver.FailureOf(c);
        var body = JsonOut.Write(w =>
        {
            w.WriteStartObject();
            id.Write(w, "chat.completion");
            w.WriteStartArray("choices");
            w.WriteStartObject();
            w.WriteNumber("index", 0);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", c.Text.ToString());
            w.WriteEndObject();
            WriteLogprobs(w, state, c.Tokens, top);
            w.WriteString("finish_reason", c.FinishReason);
            CompletionsEndpoint.WriteStopReason(w, c.StopReason);
            if (p.ReturnTokenIds) JsonOut.Ints(w, "token_ids", c.Tokens.Select(t => t.TokenId));
            w.WriteEndObject();
            w.WriteEndArray();
            JsonOut.Usage(w, c.Prompt.TokenIds.Length, c.Run.CompletionTokens);
            w.WriteEndObject();
        });
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task StreamAsync(HttpContext context, ServerState state, GenerationParameters p, List<ChoiceState> choices, int? top, ResponseIdentity id)
    {
        var ct = context.RequestAborted;
        var sse = new SseWriter(context.Response);
        await sse.StartAsync(ct).ConfigureAwait(false);
        await sse.WriteAsync(Chunk(id, w =>
        {
            w.WriteStartObject("delta");
            w.WriteString("role", "assistant");
            w.WriteString("content", "");
            w.WriteEndObject();
            w.WriteNull("logprobs");
            w.WriteNull("finish_reason");
        }), ct).ConfigureAwait(false);
        await foreach (var (c, d) in GenerationDriver.MergeAsync(state, choices, ct).ConfigureAwait(false))
        {
            c.Apply(d);
            if (c.Failed)
            {
                await sse.WriteAsync(ApiErrors.Body(GenerationDriver.FailureOf(c)), ct).ConfigureAwait(false);
                continue;
            }
            await sse.WriteAsync(Chunk(id, w =>
            {
                w.WriteStartObject("delta");
                if (d.Text.Length > 0 || d.FinishReason is null) w.WriteString("content", d.Text);
                w.WriteEndObject();
                WriteLogprobs(w, state, d.Tokens, top);
                w.WriteString("finish_reason", d.FinishReason);
                CompletionsEndpoint.WriteStopReason(w, d.FinishReason is null ? null : c.StopReason);
                if (p.ReturnTokenIds) JsonOut.Ints(w, "token_ids", d.Tokens.Select(t => t.TokenId));
            }), ct).ConfigureAwait(false);
        }
        if (p.IncludeUsage)
        {
            var c = choices[0];
            await sse.WriteAsync(JsonOut.Write(w =>
            {
                w.WriteStartObject();
                id.Write(w, "chat.completion.chunk");
                w.WriteStartArray("choices");
                w.WriteEndArray();
                JsonOut.Usage(w, c.Prompt.TokenIds.Length, c.Run.CompletionTokens);
                w.WriteEndObject();
            }), ct).ConfigureAwait(false);
        }
        await sse.DoneAsync(ct).ConfigureAwait(false);
    }

    private static byte[] Chunk(ResponseIdentity id, Action<Utf8JsonWriter> choice) => JsonOut.Write(w =>
    {
        w.WriteStartObject();
        id.Write(w, "chat.completion.chunk");
        w.WriteStartArray("choices");
        w.WriteStartObject();
        w.WriteNumber("index", 0);
        choice(w);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>Chat's <c>logprobs</c>: <c>{"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}</c>, or null.</summary>
    private static void WriteLogprobs(Utf8JsonWriter w, ServerState state, IReadOnlyList<GeneratedToken> tokens, int? top)
    {
        if (top is not { } k)
        {
            w.WriteNull("logprobs");
            return;
        }
        w.WriteStartObject("logprobs");
        w.WriteStartArray("content");
        foreach (var t in tokens)
        {
            w.WriteStartObject();
            WriteToken(w, state, t.TokenId, t.Logprobs?.Logprob ?? double.NaN);
            w.WriteStartArray("top_logprobs");
            foreach (var alt in t.Logprobs?.Top.Take(k) ?? [])
            {
                w.WriteStartObject();
                WriteToken(w, state, alt.TokenId, alt.Logprob);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteToken(Utf8JsonWriter w, ServerState state, int id, double logprob)
    {
        var text = state.TokenText(id);
        w.WriteString("token", text);
        JsonOut.Logprob(w, "logprob", logprob);
        w.WriteStartArray("bytes");
        foreach (var b in Encoding.UTF8.GetBytes(text)) w.WriteNumberValue(b);
        w.WriteEndArray();
    }
}
