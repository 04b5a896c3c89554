using System.Net;
using System.Text.Json.Nodes;

namespace Fse.Server.Tests.Http;

/// <summary>Every endpoint over a real socket, and the streaming format.</summary>
public sealed class EndpointTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private TestServer S => fixture.Server;

    [Fact]
    public async Task HealthAnswers200WithNoBody()
    {
        using var r = await S.Http.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("", await r.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ModelsListsTheServedModelWithFseDeviceLengthAndVocabulary()
    {
        var body = JsonNode.Parse(await S.Http.GetStringAsync("v1/models"))!;
        Assert.Equal("list", (string?)body["object"]);
        var m = body["data"]!.AsArray().Single()!;
        Assert.Equal(TestServer.Preset, (string?)m["id"]);
        Assert.Equal("model", (string?)m["object"]);
        Assert.Equal("on", (string?)m["fse"]);
        Assert.Equal("cpu", (string?)m["device"]);
        Assert.Equal(512, (int)m["max_model_len"]!);
        // The built-in tokenizer of a 2048-id preset: 2045 regular tokens, then 3 special ones.
        Assert.Equal(2045, (int)m["vocab_size"]!);
        Assert.Equal(S.State.Tokenizer!.VocabSize - S.State.Tokenizer.SpecialIds.Count, (int)m["vocab_size"]!);
    }

    [Fact]
    public async Task AStringPromptAndItsTokenIdsGiveTheSameGreedyCompletion()
    {
        var tokens = await S.PostJsonAsync("tokenize", new { model = TestServer.Preset, prompt = "Natalia sold clips to 48 of her friends", add_special_tokens = false });
        var ids = tokens["tokens"]!.AsArray().Select(t => (int)t!).ToArray();
        Assert.Equal(ids.Length, (int)tokens["count"]!);
        Assert.Equal(512, (int)tokens["max_model_len"]!);
        var byText = await S.PostJsonAsync("v1/completions", new { model = TestServer.Preset, prompt = "Natalia sold clips to 48 of her friends", max_tokens = 9, temperature = 0, ignore_eos = true, return_token_ids = true });
        var byIds = await S.PostJsonAsync("v1/completions", new { prompt = ids, max_tokens = 9, temperature = 0, ignore_eos = true, return_token_ids = true });
        Assert.Equal("text_completion", (string?)byText["object"]);
        Assert.StartsWith("cmpl-", (string?)byText["id"]);
        var a = byText["choices"]![0]!;
        var b = byIds["choices"]![0]!;
        Assert.Equal((string?)a["text"], (string?)b["text"]);
        Assert.Equal("length", (string?)a["finish_reason"]);
        var generated = a["token_ids"]!.AsArray().Select(t => (int)t!).ToArray();
        Assert.Equal(fixture.Reference.Greedy(ids, 9), generated);
        Assert.Equal(S.State.Tokenizer!.Decode(generated, skipSpecialTokens: true), (string?)a["text"]);
        Assert.Equal(ids, a["prompt_token_ids"]!.AsArray().Select(t => (int)t!));
        Assert.Equal(ids.Length, (int)byText["usage"]!["prompt_tokens"]!);
        Assert.Equal(9, (int)byText["usage"]!["completion_tokens"]!);
        Assert.Equal(ids.Length + 9, (int)byText["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task BatchedPromptsGiveOneChoiceEachInOrder()
    {
        string[] texts = ["Janet's ducks lay 16 eggs", "A robe takes 2 bolts", "Josh decides to try flipping a house"];
        var singles = new List<string>();
        foreach (var t in texts)
            singles.Add((string)(await S.PostJsonAsync("v1/completions", new { prompt = t, max_tokens = 6, temperature = 0, ignore_eos = true }))["choices"]![0]!["text"]!);
        var batch = await S.PostJsonAsync("v1/completions", new { prompt = texts, max_tokens = 6, temperature = 0, ignore_eos = true });
        var choices = batch["choices"]!.AsArray();
        Assert.Equal([0, 1, 2], choices.Select(c => (int)c!["index"]!));
        Assert.Equal(singles, choices.Select(c => (string)c!["text"]!));
        Assert.Equal(18, (int)batch["usage"]!["completion_tokens"]!);

        var idLists = new List<int[]>();
        foreach (var t in texts)
            idLists.Add((await S.PostJsonAsync("tokenize", new { prompt = t }))["tokens"]!.AsArray().Select(x => (int)x!).ToArray());
        var byIds = await S.PostJsonAsync("v1/completions", new { prompt = idLists, max_tokens = 6, temperature = 0, ignore_eos = true });
        Assert.Equal(singles, byIds["choices"]!.AsArray().Select(c => (string)c!["text"]!));
        Assert.Equal(idLists.Sum(l => l.Length), (int)byIds["usage"]!["prompt_tokens"]!);
    }

    [Fact]
    public async Task AStreamIsOneChunkPerTokenThenTheUsageChunkThenDone()
    {
        var whole = await S.PostJsonAsync("v1/completions", new { prompt = "Weng earns $12 an hour", max_tokens = 12, temperature = 0, ignore_eos = true });
        var events = await S.StreamAsync("v1/completions", new
        {
            model = TestServer.Preset, prompt = "Weng earns $12 an hour", max_tokens = 12, temperature = 0, ignore_eos = true, stream = true,
            stream_options = new { include_usage = true },
        });
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        var usage = chunks[^1];
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(12, (int)usage["usage"]!["completion_tokens"]!);
        Assert.Equal((int)whole["usage"]!["prompt_tokens"]!, (int)usage["usage"]!["prompt_tokens"]!);
        var tokenChunks = chunks[..^1];
        Assert.Equal(12, tokenChunks.Count);
        Assert.All(tokenChunks, c =>
        {
            Assert.Equal("text_completion", (string?)c["object"]);
            Assert.Equal((string?)chunks[0]["id"], (string?)c["id"]);
            Assert.Single(c["choices"]!.AsArray());
            Assert.Null(c["usage"]);
        });
        Assert.All(tokenChunks[..^1], c => Assert.Null((string?)c["choices"]![0]!["finish_reason"]));
        Assert.Equal("length", (string?)tokenChunks[^1]["choices"]![0]!["finish_reason"]);
        Assert.Equal((string?)whole["choices"]![0]!["text"], string.Concat(tokenChunks.Select(c => (string)c["choices"]![0]!["text"]!)));
    }

    [Fact]
    public async Task WithoutIncludeUsageNoChunkCarriesUsage()
    {
        var events = await S.StreamAsync("v1/completions", new { prompt = "Betty is saving money", max_tokens = 4, stream = true, ignore_eos = true });
        Assert.Equal("[DONE]", events[^1]);
        Assert.Equal(4, events.Count - 1);
        Assert.All(events[..^1], e => Assert.Null(JsonNode.Parse(e)!["usage"]));
    }

    [Fact]
    public async Task BatchedStreamsInterleaveChoicesAndEachEndsOnce()
    {
        var events = await S.StreamAsync("v1/completions", new
        {
            prompt = new[] { "James writes a 3-page letter", "Mark has a garden with flowers" }, max_tokens = 5, temperature = 0, ignore_eos = true,
            stream = true, stream_options = new { include_usage = true },
        });
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.Equal(10, (int)chunks[^1]["usage"]!["completion_tokens"]!);
        var byIndex = chunks[..^1].GroupBy(c => (int)c["choices"]![0]!["index"]!).OrderBy(g => g.Key).ToList();
        Assert.Equal([0, 1], byIndex.Select(g => g.Key));
        foreach (var g in byIndex)
        {
            Assert.Equal(5, g.Count());
            Assert.Single(g, c => c["choices"]![0]!["finish_reason"] is not null);
            Assert.NotNull(g.Last()["choices"]![0]!["finish_reason"]);
        }
    }

    [Fact]
    public async Task ChatRendersTheTemplateAndStreamsTheRoleFirst()
    {
        var messages = new[] { new { role = "system", content = "You are terse." }, new { role = "user", content = "How many eggs?" } };
        var counted = await S.PostJsonAsync("tokenize", new { messages });
        var r = await S.PostJsonAsync("v1/chat/completions", new { model = TestServer.Preset, messages, max_tokens = 7, temperature = 0, ignore_eos = true });
        Assert.Equal("chat.completion", (string?)r["object"]);
        Assert.StartsWith("chatcmpl-", (string?)r["id"]);
        var message = r["choices"]![0]!["message"]!;
        Assert.Equal("assistant", (string?)message["role"]);
        Assert.Equal((int)counted["count"]!, (int)r["usage"]!["prompt_tokens"]!);
        Assert.Equal(7, (int)r["usage"]!["completion_tokens"]!);
        var rendered = S.State.Tokenizer!.ApplyChatTemplate([("system", "You are terse."), ("user", "How many eggs?")], addGenerationPrompt: true);
        var ids = S.State.Tokenizer.Encode(rendered, addSpecialTokens: false);
        Assert.Equal(S.State.Tokenizer.Decode(fixture.Reference.Greedy(ids, 7), skipSpecialTokens: true), (string?)message["content"]);

        var events = await S.StreamAsync("v1/chat/completions", new { messages, max_tokens = 7, temperature = 0, ignore_eos = true, stream = true, stream_options = new { include_usage = true } });
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.Equal("chat.completion.chunk", (string?)chunks[0]["object"]);
        Assert.Equal("assistant", (string?)chunks[0]["choices"]![0]!["delta"]!["role"]);
        Assert.Equal((string?)message["content"], string.Concat(chunks.Skip(1).SkipLast(1).Select(c => (string?)c["choices"]![0]!["delta"]!["content"] ?? "")));
        Assert.Equal("length", (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
        Assert.Equal(7, (int)chunks[^1]["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task TokenizeAndDetokenizeRoundTrip()
    {
        const string text = "Tina makes $18.00 an hour. ½ ünïcödé 🙂";
        var ids = (await S.PostJsonAsync("tokenize", new { model = TestServer.Preset, prompt = text, add_special_tokens = false }))["tokens"]!.AsArray();
        var back = await S.PostJsonAsync("detokenize", new { model = TestServer.Preset, tokens = ids });
        Assert.Equal(text, (string?)back["prompt"]);
        var strs = await S.PostJsonAsync("tokenize", new { prompt = "Tina", return_token_strs = true });
        Assert.Equal(strs["tokens"]!.AsArray().Count, strs["token_strs"]!.AsArray().Count);
    }

    [Fact]
    public async Task MetricsUseVllmNamesAndCountTokens()
    {
        double before = await S.MetricAsync("vllm:generation_tokens_total");
        await S.PostJsonAsync("v1/completions", new { prompt = "Count me", max_tokens = 5, ignore_eos = true });
        Assert.Equal(before + 5, await S.MetricAsync("vllm:generation_tokens_total"));
        var text = await S.Http.GetStringAsync("metrics");
        foreach (var name in (string[])["vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc", "vllm:prompt_tokens_total",
                     "vllm:time_to_first_token_seconds_bucket", "vllm:e2e_request_latency_seconds_count", "vllm:inter_token_latency_seconds_sum",
                     "vllm:request_success_total", "vllm:num_preemptions_total", "vllm:iteration_tokens_total_bucket"])
            Assert.Contains(name, text);
        Assert.Contains("# TYPE vllm:time_to_first_token_seconds histogram", text);
        Assert.Contains("le=\"+Inf\"", text);
        // The CPU backend records no step graphs: every step runs as it is, and both totals say so.
        Assert.Contains("# TYPE fse:step_graphs_recorded_total counter", text);
        Assert.Equal(0, await S.MetricAsync("fse:step_graphs_recorded_total"));
        Assert.Equal(0, await S.MetricAsync("fse:step_graph_replays_total"));
        Assert.True(await S.MetricAsync("fse:engine_steps_total") >= 5);
    }

    [Fact]
    public async Task VersionAnswers()
    {
        var v = JsonNode.Parse(await S.Http.GetStringAsync("version"))!;
        Assert.Matches(@"^\d+\.\d+\.\d+$", (string?)v["version"]);
    }
}
