using System.Text.Json;
using Fse.Runtime.Checkpoints;
using Microsoft.AspNetCore.Http;

namespace Fse.Server.Api;

/// <summary>vLLM's <c>POST /tokenize</c> and <c>POST /detokenize</c> with the served model's tokenizer.</summary>
internal static class TokenizeEndpoints
{
    public static async Task TokenizeAsync(HttpContext context, ServerState state)
    {
        using var doc = await JsonFields.ReadAsync(context.Request, state.Options.MaxRequestBytes, context.RequestAborted).ConfigureAwait(false);
        var f = new JsonFields(doc.RootElement);
        GenerationDriver.CheckModel(state, f.String("model"));
        var tokenizer = state.Tokenizer ?? throw ApiException.BadRequest($"The model '{state.ServedName}' was loaded without a tokenizer.");
        int[] ids;
        if (f.Has("messages"))
        {
            var messages = new List<(string, string)>();
            foreach (var m in f.Raw("messages")!.Value.ValueKind == JsonValueKind.Array ? f.Raw("messages")!.Value.EnumerateArray()
                : throw ApiException.BadRequest("'messages' must be a list.", "messages"))
            {
                var mf = new JsonFields(m);
                messages.Add((mf.String("role") ?? throw ApiException.BadRequest("A message has no 'role'.", "messages"), mf.String("content") ?? ""));
            }
            string rendered;
            try { rendered = tokenizer.ApplyChatTemplate(messages, f.Bool("add_generation_prompt") ?? true); }
            catch (CheckpointException e) { throw ApiException.BadRequest($"The chat template cannot render this conversation: {e.Message}", "messages"); }
            ids = tokenizer.Encode(rendered, f.Bool("add_special_tokens") ?? false);
        }
        else
        {
            var prompt = f.String("prompt") ?? throw ApiException.BadRequest("'prompt' (a string) or 'messages' is required.", "prompt");
            ids = tokenizer.Encode(prompt, f.Bool("add_special_tokens") ?? true);
        }
        bool strings = f.Bool("return_token_strs") ?? false;
        await Json(context, JsonOut.Write(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("count", ids.Length);
            w.WriteNumber("max_model_len", state.Engine.MaxModelLen);
            JsonOut.Ints(w, "tokens", ids);
            if (strings)
            {
                w.WriteStartArray("token_strs");
                foreach (var id in ids) w.WriteStringValue(tokenizer.IdToToken(id));
                w.WriteEndArray();
            }
            else w.WriteNull("token_strs");
            w.WriteEndObject();
        })).ConfigureAwait(false);
    }

    public static async Task DetokenizeAsync(HttpContext context, ServerState state)
    {
        using var doc = await JsonFields.ReadAsync(context.Request, state.Options.MaxRequestBytes, context.RequestAborted).ConfigureAwait(false);
        var f = new JsonFields(doc.RootElement);
        GenerationDriver.CheckModel(state, f.String("model"));
        var tokenizer = state.Tokenizer ?? throw ApiException.BadRequest($"The model '{state.ServedName}' was loaded without a tokenizer.");
        if (!f.Has("tokens")) throw ApiException.BadRequest("'tokens' (a list of token ids) is required.", "tokens");
        var ids = f.Ints("tokens");
        foreach (var id in ids)
            if (id >= tokenizer.VocabSize)
                throw ApiException.BadRequest($"Token id {id} is outside the tokenizer's vocabulary (0 to {tokenizer.VocabSize - 1}).", "tokens");
        string text;
        try { text = tokenizer.Decode(ids.ToArray()); }
        catch (CheckpointException e) { throw ApiException.BadRequest(e.Message, "tokens"); }
        await Json(context, JsonOut.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("prompt", text);
            w.WriteEndObject();
        })).ConfigureAwait(false);
    }

    internal static async Task Json(HttpContext context, byte[] body)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}
