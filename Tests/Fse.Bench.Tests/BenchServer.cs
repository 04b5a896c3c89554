using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Fse.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Fse.Bench.Tests;

/// <summary>How the scripted server answers.</summary>
public sealed record BenchServerScript
{
    /// <summary>From the request's arrival to the first token chunk.</summary>
    public TimeSpan FirstTokenDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Between token chunks; chunks follow an absolute schedule so delays do not accumulate.</summary>
    public TimeSpan TokenGap { get; init; } = TimeSpan.FromMilliseconds(40);

    /// <summary>Between the last token chunk and the usage chunk (it must not count in E2EL).</summary>
    public TimeSpan UsageDelay { get; init; } = TimeSpan.Zero;

    public bool OfferTokenize { get; init; } = true;
    public bool SendUsage { get; init; } = true;

    /// <summary>Extra prompt tokens the server reports in usage (a BOS it adds).</summary>
    public int PromptTokenBonus { get; init; }

    public int? VocabSize { get; init; } = 1000;
    public string ModelId { get; init; } = "scripted-moe";
    public string? Fse { get; init; } = "on";
    public string? Device { get; init; } = "cpu-scripted";

    /// <summary>Every n-th completion request (1-based) fails with 503 and an OpenAI-shaped error.</summary>
    public int FailEvery { get; init; }

    /// <summary>The first token chunk carries empty text (a special token).</summary>
    public bool EmptyFirstText { get; init; }
}

/// <summary>What the server saw of one completion request.</summary>
public sealed record SeenRequest(int PromptTokens, bool PromptWasText, int MaxTokens, bool IgnoreEos, bool IncludeUsage, double ArrivedSeconds, double? Temperature = null);

/// <summary>
/// A real HTTP server (Kestrel on 127.0.0.1) that plays an OpenAI-compatible engine with scripted timing:
/// /v1/models with fse-server's extra fields, /tokenize and /detokenize with <see cref="ScriptedTokenizer"/>, and
/// streamed /v1/completions that emit max_tokens chunks at first-token-delay + k·gap, then usage and [DONE].
/// </summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly ScriptedServer _server;
    private readonly long _startedAt = Stopwatch.GetTimestamp();
    private int _completions;

    private BenchServer(ScriptedServer server) => _server = server;

    public Uri Url => _server.Url;
    public ConcurrentQueue<SeenRequest> Seen { get; } = new();
    public BenchServerScript Script { get; private set; } = new();

    public static async Task<BenchServer> StartAsync(BenchServerScript script)
    {
        BenchServer? self = null;
        var server = await ScriptedServer.StartAsync(app => Map(app, () => self!));
        self = new BenchServer(server) { Script = script };
        return self;
    }

    public OpenAiEndpointFactory Endpoint => new(Url);

    private static void Map(WebApplication app, Func<BenchServer> self)
    {
        app.MapGet("/v1/models", () =>
        {
            var s = self().Script;
            var card = new Dictionary<string, object?> { ["id"] = s.ModelId, ["object"] = "model", ["owned_by"] = "fse", ["max_model_len"] = 65536 };
            if (s.Fse is not null) card["fse"] = s.Fse;
            if (s.Device is not null) card["device"] = s.Device;
            if (s.VocabSize is not null) card["vocab_size"] = s.VocabSize;
            return Results.Json(new { @object = "list", data = new[] { card } });
        });
        app.MapPost("/tokenize", async (HttpContext ctx) =>
        {
            if (!self().Script.OfferTokenize) return Results.NotFound();
            using var doc = await JsonDocument.ParseAsync(ctx.Request.Body);
            var tokens = ScriptedTokenizer.Encode(doc.RootElement.GetProperty("prompt").GetString() ?? "");
            return Results.Json(new { tokens, count = tokens.Count });
        });
        app.MapPost("/detokenize", async (HttpContext ctx) =>
        {
            if (!self().Script.OfferTokenize) return Results.NotFound();
            using var doc = await JsonDocument.ParseAsync(ctx.Request.Body);
            var ids = doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32());
            return Results.Json(new { prompt = ScriptedTokenizer.Decode(ids) });
        });
        app.MapPost("/v1/completions", (HttpContext ctx) => self().CompleteAsync(ctx));
    }

    private async Task CompleteAsync(HttpContext ctx)
    {
        long arrived = Stopwatch.GetTimestamp();
        var s = Script;
        int n = Interlocked.Increment(ref _completions);
        using var doc = await JsonDocument.ParseAsync(ctx.Request.Body);
        var body = doc.RootElement;
        var prompt = body.GetProperty("prompt");
        int promptTokens = prompt.ValueKind == JsonValueKind.String ? ScriptedTokenizer.Encode(prompt.GetString()!).Count : prompt.GetArrayLength();
        int maxTokens = body.TryGetProperty("max_tokens", out var mt) ? mt.GetInt32() : 16;
        bool includeUsage = body.TryGetProperty("stream_options", out var so) && so.TryGetProperty("include_usage", out var iu) && iu.GetBoolean();
        Seen.Enqueue(new SeenRequest(promptTokens, prompt.ValueKind == JsonValueKind.String, maxTokens,
            body.TryGetProperty("ignore_eos", out var ie) && ie.GetBoolean(), includeUsage,
            (arrived - _startedAt) / (double)Stopwatch.Frequency,
            body.TryGetProperty("temperature", out var temp) && temp.ValueKind == JsonValueKind.Number ? temp.GetDouble() : null));

        if (s.FailEvery > 0 && n % s.FailEvery == 0)
        {
            ctx.Response.StatusCode = 503;
            await ctx.Response.WriteAsJsonAsync(new { error = new { message = $"scripted overload on request {n}", type = "server_error", param = (string?)null, code = 503 } });
            return;
        }

        ctx.Response.ContentType = "text/event-stream";
        for (int k = 0; k < maxTokens; k++)
        {
            await DelayUntil(arrived, s.FirstTokenDelay + k * s.TokenGap, ctx.RequestAborted);
            var text = k == 0 && s.EmptyFirstText ? "" : $" w{k}";
            var finish = k == maxTokens - 1 ? "\"length\"" : "null";
            await ctx.Response.WriteAsync($"data: {{\"id\":\"cmpl-{n}\",\"object\":\"text_completion\",\"model\":\"{s.ModelId}\",\"choices\":[{{\"index\":0,\"text\":\"{text}\",\"finish_reason\":{finish}}}]}}\n\n", ctx.RequestAborted);
            await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
        }
        if (s.UsageDelay > TimeSpan.Zero) await Task.Delay(s.UsageDelay, ctx.RequestAborted);
        if (s.SendUsage && includeUsage)
            await ctx.Response.WriteAsync($"data: {{\"id\":\"cmpl-{n}\",\"object\":\"text_completion\",\"model\":\"{s.ModelId}\",\"choices\":[],\"usage\":{{\"prompt_tokens\":{promptTokens + s.PromptTokenBonus},\"completion_tokens\":{maxTokens},\"total_tokens\":{promptTokens + s.PromptTokenBonus + maxTokens}}}}}\n\n", ctx.RequestAborted);
        await ctx.Response.WriteAsync("data: [DONE]\n\n", ctx.RequestAborted);
    }

    private static async Task DelayUntil(long origin, TimeSpan offset, CancellationToken ct)
    {
        var remaining = offset - Stopwatch.GetElapsedTime(origin);
        if (remaining > TimeSpan.Zero) await Task.Delay(remaining, ct);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}

/// <summary>Makes endpoints and clients for the scripted server.</summary>
public sealed record OpenAiEndpointFactory(Uri Url)
{
    public Fse.Client.OpenAiEndpoint Endpoint => new(Url);
    public Fse.Client.OpenAiClient Client() => new(Endpoint);
    public BenchmarkServer Server(string? model = null, string? fse = null, string? device = null) => new(Endpoint, model, fse, device);
}
