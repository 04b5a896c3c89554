using System.Text.Json.Nodes;
using Fse.Runtime.Inference;

namespace Fse.Server.Tests.Http;

/// <summary>Stop strings (cut, left out, streamed the same), and echo + logprobs as lm-eval's loglikelihood requests read them.</summary>
public sealed class StopAndLogprobsTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private TestServer S => fixture.Server;
    private const string Prompt = "Question: Tom has 3 apples and buys 5 more. How many apples does he have?\nAnswer:";

    private async Task<string> FreeText(int maxTokens) =>
        (string)(await S.PostJsonAsync("v1/completions", new { prompt = Prompt, max_tokens = maxTokens, temperature = 0, ignore_eos = true }))["choices"]![0]!["text"]!;

    /// <summary>A stop string taken from the middle of the free continuation, and the text before its first occurrence.</summary>
    private static (string Stop, string Before) StopFrom(string text)
    {
        for (int start = text.Length / 2; start < text.Length - 3; start++)
        {
            var stop = text.Substring(start, 3);
            if (stop.Contains('\uFFFD')) continue;
            int first = text.IndexOf(stop, StringComparison.Ordinal);
            if (first > 0) return (stop, text[..first]);
        }
        throw new InvalidOperationException($"No usable stop string in '{text}'.");
    }

    [Fact]
    public async Task AStopStringCutsTheTextAndIsLeftOut()
    {
        var free = await FreeText(40);
        var (stop, before) = StopFrom(free);
        var r = await S.PostJsonAsync("v1/completions", new { prompt = Prompt, max_tokens = 40, temperature = 0, ignore_eos = true, stop = new[] { "@@never@@", stop } });
        var choice = r["choices"]![0]!;
        Assert.Equal(before, (string?)choice["text"]);
        Assert.Equal("stop", (string?)choice["finish_reason"]);
        Assert.Equal(stop, (string?)choice["stop_reason"]);
        Assert.InRange((int)r["usage"]!["completion_tokens"]!, 1, 39);   // generation ended at the token that completed the stop string

        var kept = await S.PostJsonAsync("v1/completions", new { prompt = Prompt, max_tokens = 40, temperature = 0, ignore_eos = true, stop, include_stop_str_in_output = true });
        Assert.Equal(before + stop, (string?)kept["choices"]![0]!["text"]);
    }

    [Fact]
    public async Task AStreamedStopStringIsCutTheSameWayAndNothingOfItLeaks()
    {
        var free = await FreeText(40);
        var (stop, before) = StopFrom(free);
        var events = await S.StreamAsync("v1/completions", new
        {
            prompt = Prompt, max_tokens = 40, temperature = 0, ignore_eos = true, stop, stream = true, stream_options = new { include_usage = true },
        });
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        var texts = chunks[..^1].Select(c => (string)c["choices"]![0]!["text"]!).ToList();
        Assert.Equal(before, string.Concat(texts));
        Assert.Equal("stop", (string?)chunks[^2]["choices"]![0]!["finish_reason"]);
        Assert.Equal(texts.Count, (int)chunks[^1]["usage"]!["completion_tokens"]!);
        // Running text never contains a prefix of the stop string that later turned out to be it.
        var running = "";
        foreach (var t in texts)
        {
            running += t;
            Assert.StartsWith(running, before);
        }
        await S.WaitForEmptyCacheAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task EchoWithLogprobsGivesPromptLogprobsEqualToLogSoftmaxOfTheModelsLogits()
    {
        // lm-eval's loglikelihood request: echo, logprobs=1, max_tokens=1, temperature 0, token ids as the prompt.
        var tokenizer = S.State.Tokenizer!;
        var context = tokenizer.Encode("Question: What is 2 + 2?\nAnswer:", addSpecialTokens: false);
        var continuation = tokenizer.Encode(" 4", addSpecialTokens: false);
        int[] prompt = [.. context, .. continuation];
        var r = await S.PostJsonAsync("v1/completions", new { model = TestServer.Preset, prompt, echo = true, logprobs = 1, max_tokens = 1, temperature = 0, seed = 1234 });
        var choice = r["choices"]![0]!;
        var lp = choice["logprobs"]!;
        var tokens = lp["tokens"]!.AsArray().Select(t => (string)t!).ToArray();
        var tokenLogprobs = lp["token_logprobs"]!.AsArray();
        var top = lp["top_logprobs"]!.AsArray();
        Assert.Equal(prompt.Length + 1, tokens.Length);
        Assert.Equal(prompt.Length + 1, tokenLogprobs.Count);
        Assert.Equal(prompt.Length + 1, top.Count);
        Assert.Equal(prompt.Length + 1, lp["text_offset"]!.AsArray().Count);
        Assert.Null(tokenLogprobs[0]);
        Assert.Null(top[0]);
        Assert.Equal(tokenizer.Decode(prompt), string.Concat(tokens.Take(prompt.Length)));
        Assert.StartsWith(tokenizer.Decode(prompt), (string?)choice["text"]);

        var logits = fixture.Reference.Reference.Logits(prompt);
        for (int i = 1; i < prompt.Length; i++)
        {
            var expected = Sampler.LogSoftmax(logits[i - 1]);
            Assert.Equal(expected[prompt[i]], (double)tokenLogprobs[i]!, 4);
            var best = Sampler.ArgMax(logits[i - 1]);
            var dict = top[i]!.AsObject();
            // The most likely token and the prompt's token, keyed by text (lm-eval's is_greedy compares them).
            Assert.Contains(S.State.TokenText(best), dict.Select(kv => kv.Key));
            Assert.Equal(expected[best], (double)dict[S.State.TokenText(best)]!, 4);
            Assert.Equal(expected[prompt[i]], (double)dict[tokens[i]]!, 4);
        }
        // The generated token: greedy, with its own log probability.
        var last = Sampler.LogSoftmax(logits[^1]);
        int generated = Sampler.ArgMax(logits[^1]);
        Assert.Equal(S.State.TokenText(generated), tokens[^1]);
        Assert.Equal(last[generated], (double)tokenLogprobs[^1]!, 4);
        Assert.Equal(prompt.Length, (int)r["usage"]!["prompt_tokens"]!);
        Assert.Equal(1, (int)r["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task LogprobsWithoutEchoCoverOnlyGeneratedTokens()
    {
        var r = await S.PostJsonAsync("v1/completions", new { prompt = Prompt, logprobs = 3, max_tokens = 4, temperature = 0, ignore_eos = true });
        var lp = r["choices"]![0]!["logprobs"]!;
        Assert.Equal(4, lp["tokens"]!.AsArray().Count);
        Assert.All(lp["token_logprobs"]!.AsArray(), x => Assert.True((double)x! <= 0));
        Assert.All(lp["top_logprobs"]!.AsArray(), x => Assert.InRange(x!.AsObject().Count, 1, 4));
        var offsets = lp["text_offset"]!.AsArray().Select(x => (int)x!).ToArray();
        Assert.Equal(offsets.Order(), offsets);
    }

    [Fact]
    public async Task ChatLogprobsListTheTopAlternatives()
    {
        var r = await S.PostJsonAsync("v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "Hello" } }, max_tokens = 3, temperature = 0, ignore_eos = true, logprobs = true, top_logprobs = 2,
        });
        var content = r["choices"]![0]!["logprobs"]!["content"]!.AsArray();
        Assert.Equal(3, content.Count);
        Assert.All(content, c =>
        {
            Assert.Equal(2, c!["top_logprobs"]!.AsArray().Count);
            Assert.Equal((double)c["logprob"]!, (double)c["top_logprobs"]![0]!["logprob"]!, 9);   // greedy: the chosen token is the best
        });
    }
}
