using System.Globalization;
using System.Text.Json;
using Fse.Client;
using Fse.Eval.Prompting;
using Fse.Eval.Running;
using Fse.Eval.Tasks;
using Fse.Tests;

namespace Fse.Eval.Tests;

public class AccuracyRunnerTests
{
    private static readonly AccuracyRunOptions Fast = new() { Concurrency = 4, RetryBaseDelay = TimeSpan.FromMilliseconds(5), RetryMaxDelay = TimeSpan.FromMilliseconds(20) };

    private static AccuracyPlan Gsm8k(int limit) => AccuracyPlan.Prepare(EvalTaskParser.BuiltIn("gsm8k"), SharedData.PathOf("gsm8k"), limit: limit);

    private static Dictionary<string, int> Questions(AccuracyPlan plan) =>
        plan.Items.ToDictionary(i => i.Prompt[(i.Prompt.LastIndexOf("Question: ", StringComparison.Ordinal) + 10)..^"\nAnswer:".Length], i => i.Index);

    private static long Answer(AccuracyPlan plan, int i) =>
        long.Parse(plan.Items[i].Reference[(plan.Items[i].Reference.LastIndexOf("#### ", StringComparison.Ordinal) + 5)..].Replace(",", ""), CultureInfo.InvariantCulture);

    /// <summary>
    /// Twelve gsm8k items, each scripted to exercise one path. strict-match is right on 0, 2, 5, 8, 9, 10 (6 of 11 scored);
    /// flexible-extract on 0, 1, 2, 5, 6, 8, 10, 11 (8 of 11); item 7 never gets an answer and is reported as failed.
    /// </summary>
    internal static Func<int, int, Reply> TwelveItemScript(AccuracyPlan plan) => (i, call) =>
    {
        long a = Answer(plan, i);
        return i switch
        {
            0 => Reply.Answer($" She makes {a} dollars.\n#### {a}"),
            1 => Reply.Answer($" The answer is {a}."),                                           // flexible only
            2 => Reply.Answer($" #### {a}\n\nQuestion: What is 999 + 1?\nAnswer: #### 1000"),     // server ignored stop: cut client-side
            3 => Reply.Answer($" #### {a + 1}"),                                                  // wrong
            4 => Reply.Answer(" I cannot tell."),                                                 // invalid for both
            5 => call == 1 ? Reply.Error(500) : Reply.Answer($" #### {a}"),                      // retried after a 5xx
            6 => call == 1 ? Reply.Error(429) : Reply.Answer($" {a}"),                           // retried after a 429; flexible only
            7 => Reply.Error(503),                                                                // never answers
            8 => Reply.Answer($" #### {a.ToString("N0", CultureInfo.InvariantCulture)}"),       // thousands separators
            9 => Reply.Answer($" #### {a} followed by 2 cats"),                                  // strict only
            10 => call == 1 ? new Reply(NoChoices: true) : Reply.Answer($" #### {a}"),            // no answer, then an answer
            _ => Reply.Answer($" ${a}."),                                                         // flexible only
        };
    };

    [Fact]
    public async Task ScoresAScriptedServerExactly()
    {
        var plan = Gsm8k(12);
        Assert.NotEqual(2, Answer(plan, 9));
        await using var server = await ScriptedAccuracyServer.StartAsync(Questions(plan), TwelveItemScript(plan));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        var info = await AccuracyServerInfo.ResolveAsync(client);
        Assert.Equal(new AccuracyServerInfo("tiny-moe", "on", "cpu"), info);

        var outcomes = await new AccuracyRunner(client, Fast).RunAllAsync(plan, info.Model);
        var runInfo = new AccuracyRunInfo { Model = info.Model, Fse = info.Fse, Device = info.Device, Server = server.Url.ToString(), Concurrency = 4, MaxTokens = 256 };
        var results = AccuracySummary.Results(plan, runInfo, outcomes, interrupted: false, TimeSpan.FromSeconds(1));

        Assert.Equal(12, outcomes.Count);
        var strict = results.Single(r => r.Filter == "strict-match");
        var flexible = results.Single(r => r.Filter == "flexible-extract");
        Assert.Equal((11, 1, 12, 4), (strict.N, strict.Failed, strict.Total, strict.Invalid));
        Assert.Equal(6.0 / 11, strict.Score, 15);
        Assert.Equal(Math.Sqrt(6.0 / 11 * (5.0 / 11) / 10), strict.Stderr, 12);
        Assert.Equal((11, 1, 1), (flexible.N, flexible.Failed, flexible.Invalid));
        Assert.Equal(8.0 / 11, flexible.Score, 15);
        Assert.Equal(Math.Sqrt(8.0 / 11 * (3.0 / 11) / 10), flexible.Stderr, 12);
        Assert.All(results, r => Assert.Equal(("gsm8k", "tiny-moe", "on", "cpu", 5, 1234L, false), (r.Task, r.Model, r.Fse, r.Device, r.NumFewshot, r.Seed, r.Interrupted)));

        Assert.Equal(4, server.Calls[7]);    // 1 + MaxRetries
        Assert.Equal(2, server.Calls[5]);
        Assert.Equal(1, server.Calls[0]);
        var failed = outcomes.Single(o => o.Failed);
        Assert.Equal(7, failed.Index);
        Assert.Contains("503", failed.Error);
        Assert.Contains("after 4 attempts", failed.Error);
        Assert.Equal($" #### {Answer(plan, 2)}\n\n", outcomes[2].Response);   // cut at "Question:"
        Assert.Equal("[invalid]", outcomes[4].Scores[0].Extracted);
        Assert.Equal(2, outcomes[10].Attempts);
    }

    [Fact]
    public async Task SendsLmEvalsRequest()
    {
        var plan = Gsm8k(3);
        await using var server = await ScriptedAccuracyServer.StartAsync(Questions(plan), (_, _) => Reply.Answer(" #### 1"));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        await new AccuracyRunner(client, Fast with { Concurrency = 1 }).RunAllAsync(plan, "tiny-moe");
        var bodies = server.Requests.ToList();
        Assert.Equal(plan.Items.Select(i => i.Prompt), bodies.Select(b => b.GetProperty("prompt").GetString()));
        foreach (var b in bodies)
        {
            Assert.Equal("tiny-moe", b.GetProperty("model").GetString());
            Assert.Equal(256, b.GetProperty("max_tokens").GetInt32());
            Assert.Equal(0.0, b.GetProperty("temperature").GetDouble());
            Assert.Equal(1234, b.GetProperty("seed").GetInt64());
            Assert.Equal(["Question:", "</s>", "<|im_end|>"], b.GetProperty("stop").EnumerateArray().Select(x => x.GetString()));
            Assert.False(b.TryGetProperty("stream", out _));
        }
    }

    [Fact]
    public async Task KeepsConcurrencyWithinItsBound()
    {
        var plan = Gsm8k(12);
        await using var server = await ScriptedAccuracyServer.StartAsync(Questions(plan), (_, _) => Reply.Answer(" #### 0"), delay: TimeSpan.FromMilliseconds(40));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        var outcomes = await new AccuracyRunner(client, Fast with { Concurrency = 3 }).RunAllAsync(plan, "m");
        Assert.Equal(12, outcomes.Count);
        Assert.Equal(Enumerable.Range(0, 12), outcomes.Select(o => o.Index));
        Assert.InRange(server.MaxInFlight, 2, 3);
    }

    [Fact]
    public async Task CancellingKeepsWhatFinished()
    {
        var plan = Gsm8k(10);
        await using var server = await ScriptedAccuracyServer.StartAsync(Questions(plan),
            (i, _) => i < 4 ? Reply.Answer($" #### {Answer(plan, i)}") : new Reply(Hang: true));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        using var cts = new CancellationTokenSource();
        var seen = new List<AccuracyItemOutcome>();
        var run = Task.Run(async () =>
        {
            await foreach (var o in new AccuracyRunner(client, Fast with { Concurrency = 6 }).RunAsync(plan, "m", cts.Token))
            {
                seen.Add(o);
                if (seen.Count == 4) cts.CancelAfter(TimeSpan.FromMilliseconds(100));
            }
        });
        Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(20))) == run, "the run did not end after cancellation");
        await run;
        Assert.Equal([0, 1, 2, 3], seen.Select(o => o.Index).Order());
        var results = AccuracySummary.Results(plan, new AccuracyRunInfo { Model = "m" }, seen, interrupted: true, TimeSpan.Zero);
        Assert.All(results, r => Assert.Equal((4, 0, 10, 1.0, true), (r.N, r.Failed, r.Total, r.Score, r.Interrupted)));
    }

    [Fact]
    public async Task StoppingTheEnumerationEarlyAbandonsTheRequestsInFlight()
    {
        var plan = Gsm8k(6);
        await using var server = await ScriptedAccuracyServer.StartAsync(Questions(plan), (i, _) => i == 0 ? Reply.Answer(" #### 1") : new Reply(Hang: true));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        var stopped = Task.Run(async () =>
        {
            await foreach (var o in new AccuracyRunner(client, Fast with { Concurrency = 2 }).RunAsync(plan, "m"))
                return o.Index;   // leaves the loop: the enumerator is disposed with item 1 still in flight
            return -1;
        });
        Assert.True(await Task.WhenAny(stopped, Task.Delay(TimeSpan.FromSeconds(20))) == stopped, "disposing the enumeration did not end the run");
        Assert.Equal(0, await stopped);
        for (int wait = 0; wait < 100 && Volatile.Read(ref server.Aborted) == 0; wait++) await Task.Delay(50);
        Assert.True(Volatile.Read(ref server.Aborted) >= 1, "the request in flight was not abandoned");
        Assert.True(server.Requests.Count <= 3);
    }

    [Fact]
    public async Task ClientErrorsFailAtOnceAndTimeoutsAreRetried()
    {
        var plan = Gsm8k(2);
        await using var server = await ScriptedAccuracyServer.StartAsync(Questions(plan),
            (i, call) => i == 0 ? Reply.Error(400) : call == 1 ? new Reply(Hang: true) : Reply.Answer(" #### 3"));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        var outcomes = await new AccuracyRunner(client, Fast with { RequestTimeout = TimeSpan.FromSeconds(2) }).RunAllAsync(plan, "m");
        Assert.Equal(1, outcomes[0].Attempts);
        Assert.Contains("400", outcomes[0].Error);
        Assert.Null(outcomes[1].Error);
        Assert.Equal(2, outcomes[1].Attempts);
    }

    [Fact]
    public async Task ServerInfoPrefersTheNamedModelAndFallsBackToTheHandle()
    {
        await using var server = await ScriptedAccuracyServer.StartAsync(new Dictionary<string, int>(), (_, _) => Reply.Answer(""),
            modelsJson: """{"data":[{"id":"a","fse":"off"},{"id":"b","fse":"on","device":"cuda:0"}]}""");
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        Assert.Equal(new AccuracyServerInfo("a", "off", "hint-device"), await AccuracyServerInfo.ResolveAsync(client, deviceHint: "hint-device"));
        Assert.Equal(new AccuracyServerInfo("b", "on", "cuda:0"), await AccuracyServerInfo.ResolveAsync(client, model: "b", fseHint: "off"));
        using var nobody = new OpenAiClient(OpenAiEndpoint.Parse("http://127.0.0.1:1"));
        Assert.Equal(new AccuracyServerInfo("x", "on", null), await AccuracyServerInfo.ResolveAsync(nobody, modelHint: "x", fseHint: "on"));
        var e = await Assert.ThrowsAsync<OpenAiException>(() => AccuracyServerInfo.ResolveAsync(nobody));
        Assert.Contains("-Model", e.Message);
    }

    [Fact]
    public void PerItemRecordsCarryEveryFilter()
    {
        var plan = Gsm8k(1);
        var outcome = new AccuracyItemOutcome(0, plan.Items[0].PromptSha256, plan.Items[0].Reference, " #### 18", "stop", 1, null,
            Fse.Eval.Scoring.ItemScorer.Score(plan.Task, " #### 18", plan.Items[0].Reference));
        var items = AccuracySummary.Items(plan, new AccuracyRunInfo { Model = "m", Fse = "off" }, outcome);
        Assert.Equal(["strict-match", "flexible-extract"], items.Select(i => i.Filter));
        Assert.All(items, i => Assert.Equal(("gsm8k", 0, "18", "18", true, "off", "32680f263ba83280e98a8a24ceefed10a722a4cdcd9f4d78e93c45d43143ca66"),
            (i.Task, i.Index, i.ExtractedNormalised, i.ReferenceNormalised, i.Correct, i.Fse, i.PromptSha256)));
        var failed = AccuracySummary.Items(plan, new AccuracyRunInfo { Model = "m" }, outcome with { Error = "HTTP 503", Scores = [] });
        Assert.All(failed, i => Assert.True(i.Failed && !i.Correct && i.Extracted is null && i.Error == "HTTP 503"));
    }
}
