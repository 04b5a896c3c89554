using System.Globalization;
using Fse.Client;
using Fse.Eval.Arithmetic;
using Fse.Eval.Data;
using Fse.Eval.Prompting;
using Fse.Eval.Running;
using Fse.Eval.Scoring;
using Fse.Eval.Tasks;

namespace Fse.Eval.Tests;

public class ArithTaskTests
{
    [Fact]
    public void BuiltInArithIsGsm8kWithGeneratedData()
    {
        var arith = EvalTaskParser.BuiltIn("ARITH");
        var gsm8k = EvalTaskParser.BuiltIn("gsm8k");
        Assert.Equal("arith", arith.Name);
        Assert.Contains("arith", EvalTaskParser.BuiltInNames);
        Assert.Equal(new GeneratedData(GeneratedDocuments.Arithmetic, 8, 500, 1000), arith.Generated);
        Assert.Equal((null, null, null), (arith.TestFile, arith.FewshotFile, arith.DataPathVariable));
        Assert.Equal(2, arith.NumFewshot);
        Assert.Equal(128, arith.MaxGenTokens);
        // Everything that shapes a prompt or a score is gsm8k's.
        Assert.Equal((gsm8k.DocToText.Source, gsm8k.DocToTarget.Source, gsm8k.TargetDelimiter, gsm8k.FewshotDelimiter, gsm8k.Sampler, gsm8k.Temperature),
            (arith.DocToText.Source, arith.DocToTarget.Source, arith.TargetDelimiter, arith.FewshotDelimiter, arith.Sampler, arith.Temperature));
        Assert.Equal(gsm8k.Until, arith.Until);
        Assert.Equal(gsm8k.Metric.RegexesToIgnore, arith.Metric.RegexesToIgnore);
        Assert.Equal(gsm8k.Metric.IgnoreCase, arith.Metric.IgnoreCase);
        Assert.Equal(gsm8k.Filters.Select(f => f.Name), arith.Filters.Select(f => f.Name));
        for (int i = 0; i < gsm8k.Filters.Count; i++)
        {
            var (a, g) = (Assert.IsType<RegexFilterStep>(arith.Filters[i].Steps[0]), Assert.IsType<RegexFilterStep>(gsm8k.Filters[i].Steps[0]));
            Assert.Equal((g.Pattern, g.GroupSelect, g.Fallback), (a.Pattern, a.GroupSelect, a.Fallback));
        }
    }

    [Fact]
    public void ArithNeedsNoDataFolderAndIgnoresOne()
    {
        var task = EvalTaskParser.BuiltIn("arith");
        var saved = Environment.GetEnvironmentVariable("FSE_GSM8K_PATH");
        try
        {
            Environment.SetEnvironmentVariable("FSE_GSM8K_PATH", null);
            var plan = AccuracyPlan.Prepare(task);
            Assert.Null(plan.DataFolder);
            Assert.Equal(500, plan.DocumentCount);
            Assert.Equal(500, plan.Items.Count);
            var elsewhere = AccuracyPlan.Prepare(task, dataPath: "/no/such/folder", limit: 20);
            Assert.Equal(plan.Items.Take(20).Select(i => i.PromptSha256), elsewhere.Items.Select(i => i.PromptSha256));
            Assert.Throws<ArgumentException>(() => TaskDataLocator.ResolveFolder(task, null));
        }
        finally
        {
            Environment.SetEnvironmentVariable("FSE_GSM8K_PATH", saved);
        }
    }

    [Fact]
    public void PromptsAreGsm8kShapedFromHeldOutProblemsWithTrainExamples()
    {
        var task = EvalTaskParser.BuiltIn("arith");
        var plan = AccuracyPlan.Prepare(task, limit: 50);
        var test = ArithmeticProblems.Take(ArithmeticSplit.Test, 8, 50);
        var pool = ArithmeticProblems.Take(ArithmeticSplit.Train, 8, 1000);
        var sampler = new PythonRandomCheck(1234, pool.Count);
        for (int i = 0; i < plan.Items.Count; i++)
        {
            var item = plan.Items[i];
            Assert.Equal(test[i].Answer, item.Reference);
            Assert.Equal(2, item.FewshotIndices.Count);
            Assert.Equal(sampler.Next(2), item.FewshotIndices);
            var examples = item.FewshotIndices.Select(k => pool[k]).ToList();
            Assert.All(examples, e => Assert.Equal(ArithmeticSplit.Train, ArithmeticSplits.Of(e.Key)));
            var expected = string.Concat(examples.Select(e => $"Question: {e.Question}\nAnswer: {e.Answer}\n\n")) + $"Question: {test[i].Question}\nAnswer:";
            Assert.Equal(expected, item.Prompt);
        }
        var zeroShot = AccuracyPlan.Prepare(task, numFewshot: 0, limit: 3);
        Assert.Equal($"Question: {test[0].Question}\nAnswer:", zeroShot.Items[0].Prompt);
        Assert.Equal(plan.Items.Select(i => i.PromptSha256), AccuracyPlan.Prepare(task, limit: 50).Items.Select(i => i.PromptSha256));
        Assert.NotEqual(plan.Items.Select(i => i.PromptSha256), AccuracyPlan.Prepare(task, limit: 50, seed: 99).Items.Select(i => i.PromptSha256));
    }

    [Fact]
    public async Task ArithRunsAgainstAServerLikeGsm8k()
    {
        var plan = AccuracyPlan.Prepare(EvalTaskParser.BuiltIn("arith"), limit: 12);
        var questions = plan.Items.ToDictionary(i => i.Prompt[(i.Prompt.LastIndexOf("Question: ", StringComparison.Ordinal) + 10)..^"\nAnswer:".Length], i => i.Index);
        string Result(int i) => plan.Items[i].Reference[(plan.Items[i].Reference.LastIndexOf("#### ", StringComparison.Ordinal) + 5)..];
        // Even items answered right, odd ones off by one.
        await using var server = await ScriptedAccuracyServer.StartAsync(questions, (i, _) => Reply.Answer(
            i % 2 == 0 ? $" It is {Result(i)}.\n#### {Result(i)}\n\nQuestion: x" : $" #### {int.Parse(Result(i), CultureInfo.InvariantCulture) + 1}"));
        using var client = new OpenAiClient(new OpenAiEndpoint(server.Url));
        var outcomes = await new AccuracyRunner(client).RunAllAsync(plan, "tiny-moe");
        Assert.Equal(12, outcomes.Count);
        Assert.All(outcomes, o => Assert.Equal(o.Index % 2 == 0, o.Scores.Single(s => s.Filter == "strict-match").Correct));
        Assert.All(server.Requests, r => Assert.Equal(128, r.GetProperty("max_tokens").GetInt32()));
    }

    [Theory]
    [InlineData("\"generator\": \"gsm9k\", \"seed\": 1, \"test_size\": 5", "data generator 'gsm9k' is not built in")]
    [InlineData("\"generator\": \"arithmetic\", \"test_size\": 5", "'seed'")]
    [InlineData("\"generator\": \"arithmetic\", \"seed\": -1, \"test_size\": 5", "'seed' must be 0 or more")]
    [InlineData("\"generator\": \"arithmetic\", \"seed\": 1", "'test_size'")]
    [InlineData("\"generator\": \"arithmetic\", \"seed\": 1, \"test_size\": 0", "'test_size' must be at least 1")]
    [InlineData("\"generator\": \"arithmetic\", \"seed\": 1, \"test_size\": 5, \"fewshot_size\": 2", "num_fewshot 3 is above data.fewshot_size 2")]
    [InlineData("\"generator\": \"arithmetic\", \"seed\": 1, \"test_size\": 5, \"test\": \"t.jsonl\"", "unknown or unsupported key 'test'")]
    public void BadGeneratedDataIsRefusedWithAReason(string data, string expected)
    {
        using var dir = new TempFolder();
        var json = Synthetic.TaskJson().Replace("\"data\": { \"test\": \"test.jsonl\", \"fewshot\": \"train.jsonl\" }", "\"data\": { " + data + " }");
        Assert.Contains(data, json);
        var e = Assert.Throws<EvalTaskException>(() => EvalTaskParser.LoadFile(dir.Write("gen.json", json)));
        Assert.Equal(EvalTaskErrorKind.InvalidDefinition, e.Kind);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void ATaskFileMayUseTheGeneratorWithItsOwnTemplateAndSeed()
    {
        using var dir = new TempFolder();
        var json = Synthetic.TaskJson().Replace("\"data\": { \"test\": \"test.jsonl\", \"fewshot\": \"train.jsonl\" }",
            "\"data\": { \"generator\": \"arithmetic\", \"seed\": 77, \"test_size\": 9, \"fewshot_size\": 40 }");
        var task = EvalTaskParser.LoadFile(dir.Write("mine.json", json)).Single();
        var plan = AccuracyPlan.Prepare(task);
        var test = ArithmeticProblems.Take(ArithmeticSplit.Test, 77, 9);
        Assert.Equal(9, plan.Items.Count);
        Assert.Equal(test.Select(p => p.Answer), plan.Items.Select(i => i.Reference));
        Assert.EndsWith($"Q: {test[4].Question}\nA:", plan.Items[4].Prompt);
        Assert.All(plan.Items, i => Assert.Equal(3, i.FewshotIndices.Count));
        Assert.All(plan.Items, i => Assert.All(i.FewshotIndices, k => Assert.InRange(k, 0, 39)));
        var none = EvalTaskParser.LoadFile(dir.Write("none.json", json.Replace("\"fewshot_size\": 40", "\"fewshot_size\": 0").Replace("\"num_fewshot\": 3", "\"num_fewshot\": 0"))).Single();
        Assert.Equal(EvalTaskErrorKind.InvalidDefinition, Assert.Throws<EvalTaskException>(() => AccuracyPlan.Prepare(none, numFewshot: 1)).Kind);
    }

    /// <summary>lm-eval's default sampler over a pool of n: one <c>random.Random(seed)</c>, <c>sample(range(n), k)</c> per document.</summary>
    private sealed class PythonRandomCheck(long seed, int n)
    {
        private readonly Sampling.PythonRandom _random = new(seed);

        public int[] Next(int k) => _random.SampleIndices(n, k);
    }
}
