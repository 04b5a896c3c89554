using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Fse.Runtime.Serving;

namespace Fse.Server.Tests.Http;

/// <summary>Each bad request gets its status code and an OpenAI-shaped error, and the server keeps serving.</summary>
public sealed class ErrorTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private TestServer S => fixture.Server;

    private static async Task<JsonNode> ExpectError(HttpResponseMessage r, HttpStatusCode status, string type, string? param = null)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True(status == r.StatusCode, $"Expected {(int)status}, got {(int)r.StatusCode}: {text}");
        Assert.StartsWith("application/json", r.Content.Headers.ContentType?.ToString());
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.Equal(type, (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        Assert.True(error.AsObject().ContainsKey("code"));
        return error;
    }

    private async Task StillServes()
    {
        var ok = await S.PostJsonAsync("v1/completions", new { prompt = "Still here?", max_tokens = 2 });
        Assert.Equal(2, (int)ok["usage"]!["completion_tokens"]!);
        Assert.Equal(HttpStatusCode.OK, (await S.Http.GetAsync("health")).StatusCode);
    }

    [Theory]
    [InlineData("{\"prompt\": \"Hi\", ", null)]
    [InlineData("not json at all", null)]
    [InlineData("[1, 2, 3]", null)]
    [InlineData("", null)]
    [InlineData("{\"prompt\": \"Hi\", \"max_tokens\": \"ten\"}", "max_tokens")]
    [InlineData("{\"prompt\": \"Hi\", \"max_tokens\": 2.5}", "max_tokens")]
    [InlineData("{\"prompt\": \"Hi\", \"temperature\": \"hot\"}", "temperature")]
    [InlineData("{\"prompt\": \"Hi\", \"stream\": \"yes\"}", "stream")]
    [InlineData("{\"prompt\": \"Hi\", \"stop\": 7}", "stop")]
    [InlineData("{\"prompt\": \"Hi\", \"logprobs\": 21}", "logprobs")]
    [InlineData("{\"prompt\": \"Hi\", \"top_p\": 0}", "top_p")]
    [InlineData("{\"prompt\": \"Hi\", \"temperature\": -1}", "temperature")]
    [InlineData("{\"prompt\": 5}", "prompt")]
    [InlineData("{\"prompt\": []}", "prompt")]
    [InlineData("{\"prompt\": [1, \"a\"]}", "prompt")]
    [InlineData("{\"prompt\": [-3]}", "prompt")]
    [InlineData("{\"prompt\": [999999]}", "prompt")]
    [InlineData("{\"max_tokens\": 3}", "prompt")]
    [InlineData("{\"prompt\": \"Hi\", \"max_tokens\": 0}", "max_tokens")]
    [InlineData("{\"prompt\": \"Hi\", \"max_tokens\": -4}", "max_tokens")]
    [InlineData("{\"prompt\": \"Hi\", \"n\": 2}", "n")]
    [InlineData("{\"prompt\": \"Hi\", \"stream_options\": {\"include_usage\": true}}", "stream_options")]
    public async Task MalformedOrMistypedCompletionsAre400(string body, string? param)
    {
        using var r = await S.Http.PostAsync("v1/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        await ExpectError(r, HttpStatusCode.BadRequest, "invalid_request_error", param);
        await StillServes();
    }

    [Fact]
    public async Task AnUnknownModelIs404()
    {
        using var r = await S.PostAsync("v1/completions", new { model = "gpt-4", prompt = "Hi" });
        var e = await ExpectError(r, HttpStatusCode.NotFound, "not_found_error", "model");
        Assert.Equal("model_not_found", (string?)e["code"]);
        Assert.Contains("gpt-4", (string?)e["message"]);
        using var chat = await S.PostAsync("v1/chat/completions", new { model = "gpt-4", messages = new[] { new { role = "user", content = "Hi" } } });
        await ExpectError(chat, HttpStatusCode.NotFound, "not_found_error", "model");
        // Request fields are names, never paths: an existing directory or file is just another unknown model.
        foreach (var path in new[] { AppContext.BaseDirectory, "/etc/passwd", "../../" })
        {
            using var p = await S.PostAsync("v1/completions", new { model = path, prompt = "Hi" });
            await ExpectError(p, HttpStatusCode.NotFound, "not_found_error", "model");
            using var t = await S.PostAsync("tokenize", new { model = path, prompt = "Hi" });
            await ExpectError(t, HttpStatusCode.NotFound, "not_found_error", "model");
        }
        await StillServes();
    }

    [Fact]
    public async Task APromptLongerThanTheModelLengthIs400()
    {
        var tooLong = Enumerable.Repeat(17, 600).ToArray();
        using var r = await S.PostAsync("v1/completions", new { prompt = tooLong, max_tokens = 1 });
        var e = await ExpectError(r, HttpStatusCode.BadRequest, "invalid_request_error", "prompt");
        Assert.Contains("512", (string?)e["message"]);
        using var r2 = await S.PostAsync("v1/completions", new { prompt = Enumerable.Repeat(17, 500).ToArray(), max_tokens = 20 });
        await ExpectError(r2, HttpStatusCode.BadRequest, "invalid_request_error", "max_tokens");
        // A batch with one bad prompt is refused as a whole: nothing was submitted.
        using var r3 = await S.PostAsync("v1/completions", new { prompt = new[] { new[] { 1, 2 }, tooLong }, max_tokens = 1 });
        await ExpectError(r3, HttpStatusCode.BadRequest, "invalid_request_error", "prompt");
        Assert.Equal(0, await S.MetricAsync("vllm:num_requests_waiting"));
        await StillServes();
    }

    [Fact]
    public async Task BadChatAndTokenizerRequestsAre400()
    {
        foreach (var (path, body, param) in new (string, object, string?)[]
        {
            ("v1/chat/completions", new { messages = "hello" }, "messages"),
            ("v1/chat/completions", new { messages = Array.Empty<object>() }, "messages"),
            ("v1/chat/completions", new { messages = new[] { new { content = "no role" } } }, "messages"),
            ("v1/chat/completions", new { messages = new[] { new { role = "user", content = "x" } }, max_completion_tokens = 0 }, "max_completion_tokens"),
            ("v1/chat/completions", new { messages = new[] { new { role = "user", content = "x" } }, top_logprobs = 2 }, "top_logprobs"),
            ("detokenize", new { tokens = new[] { 1, 5000 } }, "tokens"),
            ("detokenize", new { tokens = "abc" }, "tokens"),
            ("tokenize", new { prompt = 12 }, "prompt"),
        })
        {
            using var r = await S.PostAsync(path, body);
            await ExpectError(r, HttpStatusCode.BadRequest, "invalid_request_error", param);
        }
        await StillServes();
    }

    [Fact]
    public async Task UnknownRoutesAre404AndWrongMethods405()
    {
        using var r = await S.Http.GetAsync("v1/engines");
        await ExpectError(r, HttpStatusCode.NotFound, "not_found_error");
        using var m = await S.Http.GetAsync("v1/completions");
        await ExpectError(m, HttpStatusCode.MethodNotAllowed, "invalid_request_error");
        Assert.Equal("POST", m.Content.Headers.Allow.Single());
    }

    [Fact]
    public async Task ABodyAboveTheLimitIs413WithOrWithoutContentLength()
    {
        await using var small = await TestServer.StartAsync(o => o with { MaxRequestBytes = 4096 });
        var big = "{\"prompt\": \"" + new string('x', 10_000) + "\"}";
        using var sized = await small.Http.PostAsync("v1/completions", new StringContent(big, Encoding.UTF8, "application/json"));
        await ExpectError(sized, HttpStatusCode.RequestEntityTooLarge, "invalid_request_error");
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var unsized = await small.Http.SendAsync(request);
        await ExpectError(unsized, HttpStatusCode.RequestEntityTooLarge, "invalid_request_error");
        var ok = await small.PostJsonAsync("v1/completions", new { prompt = "short", max_tokens = 1 });
        Assert.Single(ok["choices"]!.AsArray());
    }

    [Fact]
    public async Task AnApiKeyGuardsV1ButNotHealth()
    {
        await using var guarded = await TestServer.StartAsync(o => o with { ApiKey = "s3cret-key" });
        using var anonymous = new HttpClient { BaseAddress = new Uri(guarded.Url + "/") };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("health")).StatusCode);
        using (var r = await anonymous.GetAsync("v1/models"))
        {
            var e = await ExpectError(r, HttpStatusCode.Unauthorized, "authentication_error");
            Assert.Equal("invalid_api_key", (string?)e["code"]);
        }
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong-key");
        using (var r = await anonymous.PostAsync("v1/completions", new StringContent("{\"prompt\": \"Hi\"}", Encoding.UTF8, "application/json")))
            await ExpectError(r, HttpStatusCode.Unauthorized, "authentication_error");
        var ok = await guarded.PostJsonAsync("v1/completions", new { prompt = "Hi", max_tokens = 1 });   // guarded.Http sends the key
        Assert.Single(ok["choices"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, (await guarded.Http.GetAsync("v1/models")).StatusCode);
    }

    [Fact]
    public async Task AFullQueueIs429AndAStoppedEngine503()
    {
        await using var busy = await TestServer.StartAsync(o => o with { Engine = o.Engine with { MaxWaitingRequests = 0 } });
        using (var r = await busy.PostAsync("v1/completions", new { prompt = "Hi" }))
            await ExpectError(r, (HttpStatusCode)429, "rate_limit_error");
        busy.Engine.StopAdmission();
        using (var r = await busy.PostAsync("v1/completions", new { prompt = "Hi" }))
            await ExpectError(r, HttpStatusCode.ServiceUnavailable, "service_unavailable_error");
        Assert.Equal(HttpStatusCode.OK, (await busy.Http.GetAsync("health")).StatusCode);
        Assert.Throws<EngineUnavailableException>(() => busy.Engine.Submit(new EngineRequest { PromptTokenIds = [1] }));
    }
}
