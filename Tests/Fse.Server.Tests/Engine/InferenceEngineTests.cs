using Fse.Runtime.Inference;
using Fse.Runtime.Serving;

namespace Fse.Server.Tests.Engine;

/// <summary>The continuous-batching engine through its public API, without HTTP, against the single-stream generator.</summary>
public sealed class InferenceEngineTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private InferenceEngine Engine(EngineOptions? options = null, IReadOnlyCollection<int>? eos = null) =>
        new(tiny.Model, options ?? new EngineOptions { MaxModelLen = 256 }, eos ?? []);

    [Fact]
    public async Task ConcurrentGreedyRequestsMatchSingleStreamGeneration()
    {
        var rng = new Random(101);
        var prompts = Enumerable.Range(0, 12).Select(i => TinyModel.RandomTokens(rng, 3 + 5 * i, tiny.Vocab)).ToArray();
        var expected = prompts.Select(p => tiny.Greedy(p, 10)).ToArray();
        using var engine = Engine();
        var results = await Task.WhenAll(prompts.Select(p => engine.Submit(new EngineRequest { PromptTokenIds = p, MaxTokens = 10 }).ReadAllAsync()))
            .WaitAsync(Timeout);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(FinishReason.Length, results[i].Finish);
            Assert.Equal(expected[i], results[i].TokenIds);
        }
        var stats = engine.Stats;
        Assert.True(stats.Steps < prompts.Length * 10, $"{stats.Steps} steps for {prompts.Length} requests of 10 tokens: they were not batched.");
        Assert.Equal(prompts.Sum(p => p.Length), stats.PromptTokens);
        Assert.Equal(120, stats.GenerationTokens);
    }

    [Fact]
    public async Task LongPromptsArePrefilledInChunksWithinTheTokenBudget()
    {
        var rng = new Random(102);
        var prompt = TinyModel.RandomTokens(rng, 61, tiny.Vocab);
        var expected = tiny.Greedy(prompt, 6);
        int steps = 0, largest = 0;
        using var engine = Engine(new EngineOptions { MaxModelLen = 256, MaxNumBatchedTokens = 8 });
        engine.StepCompleted += tokens => { steps++; largest = Math.Max(largest, tokens); };
        var r = await engine.Submit(new EngineRequest { PromptTokenIds = prompt, MaxTokens = 6 }).ReadAllAsync().WaitAsync(Timeout);
        Assert.Equal(expected, r.TokenIds);
        Assert.True(largest <= 8, $"A step ran {largest} tokens with a budget of 8.");
        Assert.Equal(8 + 5, steps);   // ceil(61/8) prefill steps, the last one samples; then 5 decode steps
    }

    [Fact]
    public async Task PreemptionByRecomputeKeepsEveryOutputAndFreesTheCache()
    {
        var rng = new Random(103);
        var prompts = Enumerable.Range(0, 6).Select(_ => TinyModel.RandomTokens(rng, 20, tiny.Vocab)).ToArray();
        var expected = prompts.Select(p => tiny.Greedy(p, 28)).ToArray();
        // 12 blocks of 4 tokens hold one 48-token sequence: six sequences growing to 48 tokens must preempt.
        using var engine = Engine(new EngineOptions { MaxModelLen = 48, BlockSize = 4, NumBlocks = 12, MaxNumSeqs = 6 });
        var handles = prompts.Select(p => engine.Submit(new EngineRequest { PromptTokenIds = p, MaxTokens = 28 })).ToArray();
        var streamed = await Task.WhenAll(handles.Select(async h =>
        {
            var tokens = new List<int>();
            await foreach (var o in h.Outputs.ReadAllAsync()) if (o.TokenId is { } t) tokens.Add(t);
            return tokens;
        })).WaitAsync(Timeout);
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], streamed[i]);   // no token re-emitted after a recompute
        var stats = engine.Stats;
        Assert.True(stats.Preemptions > 0, "Nothing was preempted: the test does not exercise preemption.");
        Assert.True(stats.RecomputedTokens > 0);
        Assert.Equal(0, stats.UsedBlocks);
        Assert.Equal(0, stats.UsedStateSlots);
        Assert.Equal(0, stats.Running);
        Assert.Contains(handles, h => h.Preemptions > 0);
    }

    [Fact]
    public async Task CancellingFreesBlocksAndSlotAtOnce()
    {
        var rng = new Random(104);
        using var engine = Engine();
        var h = engine.Submit(new EngineRequest { PromptTokenIds = TinyModel.RandomTokens(rng, 30, tiny.Vocab), MaxTokens = 200, IgnoreEos = true });
        int seen = 0;
        await foreach (var o in h.Outputs.ReadAllAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            if (o.TokenId is not null && ++seen == 3) h.Cancel();
            if (o.Finish is { } f) Assert.Equal(FinishReason.Abort, f);
        }
        Assert.Equal(FinishReason.Abort, h.Finish);
        Assert.InRange(h.GeneratedTokens, 3, 199);
        await WaitUntil(() => engine.Stats is { UsedBlocks: 0, UsedStateSlots: 0, Running: 0, Waiting: 0 });
    }

    [Fact]
    public async Task PromptLogprobsEqualLogSoftmaxOfTheReferenceLogitsAcrossChunks()
    {
        var rng = new Random(105);
        var prompt = TinyModel.RandomTokens(rng, 23, tiny.Vocab);
        var logits = tiny.Reference.Logits(prompt);
        using var engine = Engine(new EngineOptions { MaxModelLen = 256, MaxNumBatchedTokens = 7 });
        var r = await engine.Submit(new EngineRequest { PromptTokenIds = prompt, MaxTokens = 1, PromptLogprobs = 3, Logprobs = 2 }).ReadAllAsync().WaitAsync(Timeout);
        Assert.Equal(prompt.Length - 1, r.PromptLogprobs.Count);
        for (int i = 1; i < prompt.Length; i++)
        {
            var expected = Sampler.LogSoftmax(logits[i - 1]);
            var got = r.PromptLogprobs[i - 1];
            Assert.Equal(prompt[i], got.TokenId);
            Assert.Equal(expected[prompt[i]], got.Logprob, 4);
            var best = expected.Select((v, id) => (v, id)).OrderByDescending(x => x.v).ThenBy(x => x.id).Take(3).ToArray();
            Assert.Equal(best.Select(b => b.id), got.Top.Select(t => t.TokenId));
            for (int k = 0; k < 3; k++) Assert.Equal(best[k].v, got.Top[k].Logprob, 4);
        }
        var last = Sampler.LogSoftmax(logits[^1]);
        Assert.Equal(Sampler.ArgMax(logits[^1]), r.TokenIds.Single());
        Assert.Equal(last.Max(), r.Logprobs.Single().Logprob, 4);
        Assert.Equal(2, r.Logprobs.Single().Top.Count);
    }

    [Fact]
    public async Task EndOfSequenceStopsUnlessIgnoredAndStopTokensAlwaysStop()
    {
        var rng = new Random(106);
        var prompt = TinyModel.RandomTokens(rng, 9, tiny.Vocab);
        var free = tiny.Greedy(prompt, 8);
        int eos = free[3];
        int firstEos = Array.IndexOf(free, eos);
        using var engine = Engine(eos: [eos]);
        var stopped = await engine.Submit(new EngineRequest { PromptTokenIds = prompt, MaxTokens = 8 }).ReadAllAsync().WaitAsync(Timeout);
        Assert.Equal(FinishReason.Stop, stopped.Finish);
        Assert.Equal(free.Take(firstEos + 1), stopped.TokenIds);
        var ignored = await engine.Submit(new EngineRequest { PromptTokenIds = prompt, MaxTokens = 8, IgnoreEos = true }).ReadAllAsync().WaitAsync(Timeout);
        Assert.Equal(FinishReason.Length, ignored.Finish);
        Assert.Equal(free, ignored.TokenIds);
        var byStopId = await engine.Submit(new EngineRequest { PromptTokenIds = prompt, MaxTokens = 8, IgnoreEos = true, StopTokenIds = [free[5]] })
            .ReadAllAsync().WaitAsync(Timeout);
        Assert.Equal(FinishReason.Stop, byStopId.Finish);
        Assert.Equal(free.Take(Array.IndexOf(free, free[5]) + 1), byStopId.TokenIds);
    }

    [Fact]
    public async Task SeededSamplingRepeatsAndDiffersFromGreedy()
    {
        var rng = new Random(107);
        var prompt = TinyModel.RandomTokens(rng, 12, tiny.Vocab);
        using var engine = Engine();
        EngineRequest Req(long seed) => new() { PromptTokenIds = prompt, MaxTokens = 12, Sampling = new SamplingParams { Temperature = 1.5, TopP = 0.95, Seed = seed } };
        var a = await engine.Submit(Req(7)).ReadAllAsync().WaitAsync(Timeout);
        var b = await engine.Submit(Req(7)).ReadAllAsync().WaitAsync(Timeout);
        var c = await engine.Submit(Req(8)).ReadAllAsync().WaitAsync(Timeout);
        Assert.Equal(a.TokenIds, b.TokenIds);
        Assert.NotEqual(a.TokenIds, c.TokenIds);
        Assert.NotEqual(tiny.Greedy(prompt, 12), a.TokenIds);
    }

    /// <summary>Sampled rows of one step draw in parallel; each sequence's seed still decides its tokens alone.</summary>
    [Fact]
    public async Task ConcurrentSeededRequestsDrawWhatEachDrawsAlone()
    {
        var rng = new Random(109);
        var requests = Enumerable.Range(0, 6).Select(i => new EngineRequest
        {
            PromptTokenIds = TinyModel.RandomTokens(rng, 4 + 3 * i, tiny.Vocab), MaxTokens = 10, IgnoreEos = true,
            Sampling = new SamplingParams { Temperature = 1.2, TopP = i % 2 == 0 ? 0.9 : 1.0, Seed = 100 + i },
        }).ToArray();
        using var engine = Engine();
        var alone = new List<IReadOnlyList<int>>();
        foreach (var r in requests) alone.Add((await engine.Submit(r).ReadAllAsync().WaitAsync(Timeout)).TokenIds);
        var together = await Task.WhenAll(requests.Select(r => engine.Submit(r).ReadAllAsync().WaitAsync(Timeout)));
        Assert.Equal(alone, together.Select(o => o.TokenIds));
        Assert.True(engine.Stats.Steps < 6 * 11 + 11, "the requests shared steps");
    }

    [Fact]
    public void RequestsThatCannotBeServedAreRefusedWithTheFieldAtFault()
    {
        using var engine = Engine(new EngineOptions { MaxModelLen = 64 });
        void Refused(EngineRequest r, string param)
        {
            var e = Assert.Throws<EngineRequestException>(() => engine.Submit(r));
            Assert.Equal(param, e.Param);
        }
        Refused(new EngineRequest { PromptTokenIds = [] }, "prompt");
        Refused(new EngineRequest { PromptTokenIds = Enumerable.Repeat(5, 64).ToArray() }, "prompt");
        Refused(new EngineRequest { PromptTokenIds = Enumerable.Repeat(5, 60).ToArray(), MaxTokens = 5 }, "max_tokens");
        Refused(new EngineRequest { PromptTokenIds = [1, 2], MaxTokens = 0 }, "max_tokens");
        Refused(new EngineRequest { PromptTokenIds = [1, tiny.Vocab] }, "prompt");
        Refused(new EngineRequest { PromptTokenIds = [1], Sampling = new SamplingParams { TopP = 0 } }, "top_p");
        Refused(new EngineRequest { PromptTokenIds = [1], Logprobs = 21 }, "logprobs");
        Assert.Equal(0, engine.Stats.Waiting);
    }

    [Fact]
    public async Task DrainingStopsAdmissionAndAbortsWhatOutlivesTheGracePeriod()
    {
        // Wide margins either side of the 2 s grace, so a loaded machine cannot flip the outcome: 2 tokens take
        // milliseconds, 60,000 take over 10 s (hence a context longer than the preset's 4,096).
        var rng = new Random(108);
        using var model = tiny.LoadWithContext(65536);
        using var engine = new InferenceEngine(model, new EngineOptions { MaxModelLen = 65536, MaxNumSeqs = 4, MaxWaitingRequests = 1000 }, []);
        var quick = engine.Submit(new EngineRequest { PromptTokenIds = TinyModel.RandomTokens(rng, 5, tiny.Vocab), MaxTokens = 2 });
        var slow = engine.Submit(new EngineRequest { PromptTokenIds = TinyModel.RandomTokens(rng, 5, tiny.Vocab), MaxTokens = 60000, IgnoreEos = true });
        var drained = engine.DrainAsync(TimeSpan.FromSeconds(2));
        Assert.Throws<EngineUnavailableException>(() => engine.Submit(new EngineRequest { PromptTokenIds = [1] }));
        Assert.Equal(1, await drained.WaitAsync(Timeout));
        Assert.Equal(FinishReason.Length, (await quick.ReadAllAsync()).Finish);
        Assert.Equal(FinishReason.Abort, (await slow.ReadAllAsync()).Finish);
        Assert.False(engine.Stats.Accepting);
        Assert.True(engine.Stats.Healthy);
    }

    [Fact]
    public void AFullWaitingQueueRefusesWithBusy()
    {
        using var engine = Engine(new EngineOptions { MaxModelLen = 256, MaxWaitingRequests = 0 });
        Assert.Throws<EngineBusyException>(() => engine.Submit(new EngineRequest { PromptTokenIds = [1, 2, 3] }));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var until = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > until) Assert.Fail("The condition did not come true in time.");
            await Task.Delay(5);
        }
    }
}
