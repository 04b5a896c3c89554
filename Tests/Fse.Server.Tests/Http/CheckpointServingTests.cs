using System.Net;
using System.Text.Json.Nodes;
using Fse.Runtime.Presets;
using Fse.Runtime.Tokenization;
using Fse.Server.Tests.Engine;

namespace Fse.Server.Tests.Http;

/// <summary>
/// Checkpoint directories: one with a tokenizer whose config.json names a token the model emits greedily as its
/// end-of-sequence id (so ignore_eos has something to ignore), and one without tokenizer files (token ids only).
/// </summary>
public sealed class CheckpointServingTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "fse-server-ckpt-" + Guid.NewGuid().ToString("N"));
    private readonly int[] _prompt = [11, 222, 333, 44, 5, 666, 77];
    private int[] _free = [];
    private int _eos;

    private string WithTokenizer => Path.Combine(_root, "with-tokenizer");
    private string WithoutTokenizer => Path.Combine(_root, "ids-only");

    public Task InitializeAsync()
    {
        using (var tiny = new TinyModel("tiny-qwen2-moe", seed: 9)) _free = tiny.Greedy(_prompt, 12);
        _eos = _free[4];
        foreach (var dir in new[] { WithTokenizer, WithoutTokenizer })
        {
            PresetWriter.Write("tiny-qwen2-moe", dir, seed: 9);
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
            config["eos_token_id"] = _eos;
            File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        }
        BpeTrainer.WriteBuiltIn(WithTokenizer, 2048);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_root, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task TheEndOfSequenceTokenStopsUnlessIgnoreEos()
    {
        await using var s = await TestServer.StartAsync(model: WithTokenizer);
        int cut = Array.IndexOf(_free, _eos) + 1;
        var stopped = await s.PostJsonAsync("v1/completions", new { prompt = _prompt, max_tokens = 12, temperature = 0, return_token_ids = true });
        var c = stopped["choices"]![0]!;
        Assert.Equal("stop", (string?)c["finish_reason"]);
        Assert.Null((string?)c["stop_reason"]);
        Assert.Equal(_free.Take(cut), c["token_ids"]!.AsArray().Select(t => (int)t!));
        Assert.Equal(cut, (int)stopped["usage"]!["completion_tokens"]!);

        var ignored = await s.PostJsonAsync("v1/completions", new { prompt = _prompt, max_tokens = 12, temperature = 0, ignore_eos = true, return_token_ids = true });
        Assert.Equal("length", (string?)ignored["choices"]![0]!["finish_reason"]);
        Assert.Equal(_free, ignored["choices"]![0]!["token_ids"]!.AsArray().Select(t => (int)t!));

        var byId = await s.PostJsonAsync("v1/completions", new { prompt = _prompt, max_tokens = 12, temperature = 0, ignore_eos = true, stop_token_ids = new[] { _free[7] } });
        Assert.Equal(_free[7], (int)byId["choices"]![0]!["stop_reason"]!);

        var model = JsonNode.Parse(await s.Http.GetStringAsync("v1/models"))!["data"]![0]!;
        Assert.Equal(Path.GetFullPath(WithTokenizer), (string?)model["root"]);
        Assert.Equal("qwen2_moe", (string?)model["model_type"]);
    }

    [Fact]
    public async Task WithoutTokenizerFilesOnlyTokenIdPromptsAreServed()
    {
        await using var s = await TestServer.StartAsync(o => o with { ServedModelName = "ids-only" }, model: WithoutTokenizer);
        Assert.Null(s.State.Tokenizer);
        var ok = await s.PostJsonAsync("v1/completions", new { model = "ids-only", prompt = _prompt, max_tokens = 3, ignore_eos = true, temperature = 0, return_token_ids = true });
        Assert.Equal(_free.Take(3), ok["choices"]![0]!["token_ids"]!.AsArray().Select(t => (int)t!));
        Assert.Equal("", (string?)ok["choices"]![0]!["text"]);
        using var text = await s.PostAsync("v1/completions", new { prompt = "Hello" });
        Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
        Assert.Contains("token ids", (string?)JsonNode.Parse(await text.Content.ReadAsStringAsync())!["error"]!["message"]);
        using var stop = await s.PostAsync("v1/completions", new { prompt = _prompt, stop = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, stop.StatusCode);
        using var tok = await s.PostAsync("tokenize", new { prompt = "Hello" });
        Assert.Equal(HttpStatusCode.BadRequest, tok.StatusCode);
        var models = JsonNode.Parse(await s.Http.GetStringAsync("v1/models"))!["data"]![0]!;
        Assert.Equal(2048, (int)models["vocab_size"]!);
        var lp = await s.PostJsonAsync("v1/completions", new { model = "ids-only", prompt = _prompt, max_tokens = 1, logprobs = 1, echo = true });
        Assert.Equal($"token_id:{_prompt[0]}", (string?)lp["choices"]![0]!["logprobs"]!["tokens"]![0]);
    }
}
