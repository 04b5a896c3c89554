using System.Diagnostics;
using System.Text.Json.Nodes;
using Fse.Client;

namespace Fse.Server.Tests.Http;

/// <summary>Many concurrent clients on the CPU, bounded in time: no errors, no leaked cache, and batching changes no greedy output.</summary>
public sealed class LoadTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private TestServer S => fixture.Server;

    [Fact]
    public async Task TwoHundredFiftySixConcurrentStreamsCompleteWithoutErrors()
    {
        var rng = new Random(201);
        using var client = new OpenAiClient(OpenAiEndpoint.Parse(S.Url));
        var clock = Stopwatch.StartNew();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 256).Select(async i =>
        {
            var request = new CompletionRequest
            {
                Model = TestServer.Preset,
                PromptTokens = Enumerable.Range(0, 8 + i % 9).Select(_ => rng.Next(2045)).ToArray(),
                MaxTokens = 12,
                IgnoreEos = true,
                Temperature = 0,
            };
            int chunks = 0;
            Usage? usage = null;
            await foreach (var c in client.StreamCompletionAsync(request))
            {
                if (c.Body.Choices.Count > 0) chunks++;
                usage ??= c.Body.Usage;
            }
            return (chunks, usage);
        })).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(outcomes, o =>
        {
            Assert.Equal(12, o.chunks);
            Assert.Equal(12, o.usage!.CompletionTokens);
        });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(45), $"256 streams took {clock.Elapsed.TotalSeconds:0.0} s.");
        await S.WaitForEmptyCacheAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, await S.MetricAsync("fse:kv_cache_blocks_used"));
    }

    [Fact]
    public async Task AHundredClientsThatDisconnectMidStreamLeaveTheCacheEmpty()
    {
        var rng = new Random(202);
        double abortedBefore = await AbortedAsync();
        await Task.WhenAll(Enumerable.Range(0, 100).Select(async i =>
        {
            using var cts = new CancellationTokenSource();
            using var r = await S.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "v1/completions")
            {
                Content = new StringContent(new JsonObject
                {
                    ["prompt"] = new JsonArray([.. Enumerable.Range(0, 10).Select(_ => (JsonNode)rng.Next(2045))]),
                    ["max_tokens"] = 400, ["ignore_eos"] = true, ["stream"] = true,
                }.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
            }, HttpCompletionOption.ResponseHeadersRead, cts.Token);
            Assert.True(r.IsSuccessStatusCode);
            using var body = new StreamReader(await r.Content.ReadAsStreamAsync(cts.Token));
            // Read into the stream, then hang up.
            for (int lines = 0; lines < 2 + i % 5;) if ((await body.ReadLineAsync(cts.Token))?.StartsWith("data:") == true) lines++;
            cts.Cancel();
        })).WaitAsync(TimeSpan.FromSeconds(60));
        await S.WaitForEmptyCacheAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(0, await S.MetricAsync("fse:state_slots_used"));
        Assert.True(await AbortedAsync() - abortedBefore >= 100, "The disconnected requests were not recorded as aborted.");
        var after = await S.PostJsonAsync("v1/completions", new { prompt = "Still serving", max_tokens = 2 });
        Assert.Equal(2, (int)after["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task GreedyOutputsUnderConcurrencyEqualOneAtATime()
    {
        var rng = new Random(203);
        var prompts = Enumerable.Range(0, 24).Select(i => Enumerable.Range(0, 4 + 3 * i).Select(_ => rng.Next(2045)).ToArray()).ToArray();
        async Task<int[]> Generate(int[] prompt)
        {
            var r = await S.PostJsonAsync("v1/completions", new { prompt, max_tokens = 16, temperature = 0, ignore_eos = true, return_token_ids = true });
            return r["choices"]![0]!["token_ids"]!.AsArray().Select(t => (int)t!).ToArray();
        }
        var sequential = new List<int[]>();
        foreach (var p in prompts) sequential.Add(await Generate(p));
        var concurrent = await Task.WhenAll(prompts.Select(Generate)).WaitAsync(TimeSpan.FromSeconds(60));
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(sequential[i], concurrent[i]);
    }

    private async Task<double> AbortedAsync()
    {
        var text = await S.Http.GetStringAsync("metrics");
        var line = text.Split('\n').Single(l => l.StartsWith("vllm:request_success_total{") && l.Contains("finished_reason=\"abort\""));
        return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
