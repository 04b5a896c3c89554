using System.Diagnostics;
using System.Text.Json;
using Fse.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Fse.Client.Tests;

public class OpenAiClientTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8000", "http://127.0.0.1:8000/")]
    [InlineData("http://127.0.0.1:8000/", "http://127.0.0.1:8000/")]
    [InlineData("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/")]
    [InlineData("http://host:1/prefix/v1/", "http://host:1/prefix/")]
    public void EndpointNormalisesToTheServerRoot(string given, string root) =>
        Assert.Equal(root, OpenAiEndpoint.Parse(given).Root.ToString());

    [Theory]
    [InlineData("localhost:8000")]
    [InlineData("ftp://x/")]
    [InlineData("not a url")]
    public void EndpointRejectsNonHttpUrls(string given) =>
        Assert.Throws<ArgumentException>(() => OpenAiEndpoint.Parse(given));

    [Fact]
    public async Task StreamsChunksInOrderWithArrivalTimesUntilDone()
    {
        JsonElement? seenBody = null;
        string? seenAuth = null;
        await using var server = await ScriptedServer.StartAsync(app => app.MapPost("/v1/completions", async (HttpContext ctx) =>
        {
            seenAuth = ctx.Request.Headers.Authorization;
            seenBody = (await JsonDocument.ParseAsync(ctx.Request.Body)).RootElement.Clone();
            ctx.Response.ContentType = "text/event-stream";
            foreach (var text in new[] { "a", "", "b" })
            {
                await ctx.Response.WriteAsync($"data: {{\"id\":\"x\",\"choices\":[{{\"index\":0,\"text\":\"{text}\"}}]}}\n\n");
                await ctx.Response.Body.FlushAsync();
                await Task.Delay(30);
            }
            await ctx.Response.WriteAsync("data: {\"id\":\"x\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3}}\n\ndata: [DONE]\n\n");
        }));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url, "sk-test"));
        var request = new CompletionRequest { Model = "m", PromptTokens = [1, 2, 3], MaxTokens = 3, IgnoreEos = true };
        var chunks = new List<StreamChunk>();
        long sent = Stopwatch.GetTimestamp();
        await foreach (var c in client.StreamCompletionAsync(request)) chunks.Add(c);

        Assert.Equal("Bearer sk-test", seenAuth);
        var body = seenBody!.Value;
        Assert.True(body.GetProperty("stream").GetBoolean());
        Assert.True(body.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.True(body.GetProperty("ignore_eos").GetBoolean());
        Assert.Equal([1, 2, 3], body.GetProperty("prompt").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal(4, chunks.Count);
        Assert.Equal(["a", "", "b"], chunks.Take(3).Select(c => c.Body.Choices.Single().Text));
        Assert.Empty(chunks[3].Body.Choices);
        Assert.Equal(new Usage(3, 3), chunks[3].Body.Usage);
        // Each event carries its own arrival time: the third can only arrive after the server's two 30 ms pauses,
        // and later than the first (a loaded machine may delay the first read, so the gap between them has no lower bound).
        var thirdMs = (chunks[2].ArrivedAt - sent) * 1000.0 / Stopwatch.Frequency;
        Assert.InRange(thirdMs, 60, 5000);
        Assert.True(chunks[2].ArrivedAt > chunks[0].ArrivedAt);
    }

    [Fact]
    public async Task AStreamCutShortIsAnError()
    {
        await using var server = await ScriptedServer.StartAsync(app => app.MapPost("/v1/completions", async (HttpContext ctx) =>
        {
            ctx.Response.ContentType = "text/event-stream";
            await ctx.Response.WriteAsync("data: {\"choices\":[{\"index\":0,\"text\":\"a\"}]}\n\n");
        }));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        var e = await Assert.ThrowsAsync<OpenAiException>(async () =>
        {
            await foreach (var _ in client.StreamCompletionAsync(new CompletionRequest { Model = "m", PromptText = "x" })) { }
        });
        Assert.Contains("[DONE]", e.Message);
    }

    [Fact]
    public async Task OpenAiShapedErrorsCarryStatusTypeAndMessage()
    {
        await using var server = await ScriptedServer.StartAsync(app => app.MapPost("/v1/completions", () =>
            Results.Json(new { error = new { message = "max_tokens must be at least 1", type = "invalid_request_error", param = "max_tokens", code = (string?)null } }, statusCode: 400)));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        var e = await Assert.ThrowsAsync<OpenAiException>(() => client.CompleteAsync(new CompletionRequest { Model = "m", PromptText = "x", MaxTokens = 0 }));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("invalid_request_error", e.ErrorType);
        Assert.Contains("max_tokens must be at least 1", e.Message);
        Assert.False(e.IsTransient);
    }

    [Fact]
    public async Task NoServerIsATransientErrorWithoutStatus()
    {
        using var client = new OpenAiClient(OpenAiEndpoint.Parse("http://127.0.0.1:1"));
        var e = await Assert.ThrowsAsync<OpenAiException>(() => client.GetModelsAsync());
        Assert.Null(e.StatusCode);
        Assert.True(e.IsTransient);
        Assert.False(await client.IsHealthyAsync());
    }

    [Fact]
    public async Task ReadsModelsCompletionsLogprobsAndTokenizeWithFallbackWhenAbsent()
    {
        await using var server = await ScriptedServer.StartAsync(app =>
        {
            app.MapGet("/v1/models", () => Results.Json(new { data = new object[] { new { id = "tiny", owned_by = "fse", max_model_len = 4096, fse = "on", device = "cpu" } } }));
            app.MapPost("/v1/completions", () => Results.Json(new
            {
                id = "c1",
                choices = new[] { new { index = 0, text = " 42", finish_reason = "stop", logprobs = new { tokens = new[] { " 4", "2" }, token_logprobs = new double?[] { null, -0.5 }, top_logprobs = new object?[] { null, new Dictionary<string, double> { ["2"] = -0.5 } }, text_offset = new[] { 0, 2 } } } },
                usage = new { prompt_tokens = 5, completion_tokens = 2 },
            }));
        });
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        var model = Assert.Single(await client.GetModelsAsync());
        Assert.Equal(new ModelCard("tiny", "fse", 4096, "on", "cpu"), model);
        var r = await client.CompleteAsync(new CompletionRequest { Model = "tiny", PromptText = "6*7=", Echo = true, Logprobs = 1 });
        var choice = Assert.Single(r.Choices);
        Assert.Equal(" 42", choice.Text);
        Assert.Equal("stop", choice.FinishReason);
        Assert.Equal([null, -0.5], choice.Logprobs!.TokenLogprobs);
        Assert.Equal(-0.5, choice.Logprobs.TopLogprobs[1]!["2"]);
        Assert.Equal(new Usage(5, 2), r.Usage);
        Assert.Null(await client.TokenizeAsync("tiny", "hello"));
        Assert.Null(await client.DetokenizeAsync("tiny", [1, 2]));
    }
}
