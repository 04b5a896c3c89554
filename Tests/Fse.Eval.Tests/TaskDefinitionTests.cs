using Fse.Eval.Data;
using Fse.Eval.Prompting;
using Fse.Eval.Scoring;
using Fse.Eval.Tasks;

namespace Fse.Eval.Tests;

public class TaskDefinitionTests
{
    [Fact]
    public void BuiltInGsm8kIsLmEvalsGsm8kYaml()
    {
        var t = EvalTaskParser.BuiltIn("GSM8K");
        Assert.Equal("gsm8k", t.Name);
        Assert.Equal("3.0", t.Version);
        Assert.Equal("Question: {{question}}\nAnswer:", t.DocToText.Source);
        Assert.Equal("{{answer}}", t.DocToTarget.Source);
        Assert.Equal(" ", t.TargetDelimiter);
        Assert.Equal("\n\n", t.FewshotDelimiter);
        Assert.Equal(5, t.NumFewshot);
        Assert.Equal(FewshotSamplerKind.Default, t.Sampler);
        Assert.Equal(["Question:", "</s>", "<|im_end|>"], t.Until);
        Assert.Equal(256, t.MaxGenTokens);
        Assert.Equal(0.0, t.Temperature);
        Assert.Equal(("test.jsonl", "train.jsonl", "FSE_GSM8K_PATH"), (t.TestFile, t.FewshotFile, t.DataPathVariable));
        Assert.True(t.Metric.IgnoreCase);
        Assert.False(t.Metric.IgnorePunctuation);
        Assert.Equal([",", "\\$", "(?s).*#### ", "\\.$"], t.Metric.RegexesToIgnore);
        Assert.Equal(["strict-match", "flexible-extract"], t.Filters.Select(f => f.Name));
        var strict = Assert.IsType<RegexFilterStep>(t.Filters[0].Steps[0]);
        Assert.Equal((@"#### (\-?[0-9\.\,]+)", 0), (strict.Pattern, strict.GroupSelect));
        var flexible = Assert.IsType<RegexFilterStep>(t.Filters[1].Steps[0]);
        Assert.Equal((@"(-?[$0-9.,]{2,})|(-?[0-9]+)", -1, "[invalid]"), (flexible.Pattern, flexible.GroupSelect, flexible.Fallback));
        Assert.IsType<TakeFirstStep>(t.Filters[1].Steps[1]);
        Assert.Equal(["question", "answer"], t.RequiredFields);
        Assert.Contains("gsm8k", EvalTaskParser.BuiltInNames);
    }

    [Fact]
    public void UnknownBuiltInNamesTheOnesThereAre()
    {
        var e = Assert.Throws<EvalTaskException>(() => EvalTaskParser.BuiltIn("mmlu"));
        Assert.Equal(EvalTaskErrorKind.UnknownTask, e.Kind);
        Assert.Contains("gsm8k", e.Message);
    }

    [Fact]
    public void TaskFilesMayHoldSeveralTasksAsJsonlOrAnArray()
    {
        using var dir = new TempFolder();
        var one = Synthetic.TaskJson().ReplaceLineEndings(" ");
        var jsonl = dir.Write("tasks.jsonl", one + "\n\n" + one.Replace("\"synthetic\"", "\"second\"") + "\n");
        Assert.Equal(["synthetic", "second"], EvalTaskParser.LoadFile(jsonl).Select(t => t.Name));
        var array = dir.Write("tasks.json", "[" + one + "," + one.Replace("\"synthetic\"", "\"third\"") + "]");
        var tasks = EvalTaskParser.LoadFile(array);
        Assert.Equal(["synthetic", "third"], tasks.Select(t => t.Name));
        Assert.Equal(Path.GetFullPath(array), tasks[0].SourcePath);
        Assert.Equal(["Q:"], tasks[0].Until);
        Assert.Equal(32, tasks[0].MaxGenTokens);
        var dup = dir.Write("dup.json", "[" + one + "," + one + "]");
        Assert.Contains("more than once", Assert.Throws<EvalTaskException>(() => EvalTaskParser.LoadFile(dup)).Message);
    }

    [Theory]
    [InlineData("\"doc_to_txt\": \"x\"", "unknown or unsupported key 'doc_to_txt'")]
    [InlineData("\"output_type\": \"multiple_choice\"", "only generate_until")]
    [InlineData("\"repeats\": 3", "repeats")]
    [InlineData("\"num_fewshot\": \"five\"", "'num_fewshot' must be an integer")]
    [InlineData("\"fewshot_config\": { \"sampler\": \"balanced\" }", "sampler 'balanced'")]
    [InlineData("\"generation_kwargs\": { \"do_sample\": true }", "do_sample")]
    [InlineData("\"generation_kwargs\": { \"top_k\": 5 }", "'top_k'")]
    [InlineData("\"metric_list\": [ { \"metric\": \"bleu\" } ]", "'bleu' is not supported")]
    [InlineData("\"filter_list\": [ { \"name\": \"f\", \"filter\": [ { \"function\": \"majority_vote\" } ] } ]", "'majority_vote' is not supported")]
    [InlineData("\"filter_list\": [ { \"name\": \"f\", \"filter\": [ { \"function\": \"regex\", \"regex_pattern\": \"(unclosed\" } ] } ]", "not valid")]
    [InlineData("\"description\": \"{% if x %}hi{% endif %}\"", "Jinja statements")]
    [InlineData("\"description\": \"{{ question | upper }}\"", "not a plain field name")]
    public void BadDefinitionsAreRefusedWithAReason(string extra, string expected)
    {
        using var dir = new TempFolder();
        var text = Synthetic.TaskJson().Replace("\"task\": \"synthetic\",", "\"task\": \"synthetic\", " + extra + ",");
        // A key given twice keeps the later value in JsonDocument lookups; these tests only add keys the base lacks or override them.
        var json = RemoveBaseKey(text, extra);
        var e = Assert.Throws<EvalTaskException>(() => EvalTaskParser.LoadFile(dir.Write("bad.json", json)));
        Assert.Equal(EvalTaskErrorKind.InvalidDefinition, e.Kind);
        Assert.Contains(expected, e.Message);
        Assert.Contains("bad.json", e.Message);
        Assert.Contains("synthetic", e.Message);
    }

    [Fact]
    public void NotJsonNamesTheFileAndLine()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<EvalTaskException>(() => EvalTaskParser.LoadFile(dir.Write("t.jsonl", "{\"task\": \"a\"}\n{\"task\": \n")));
        Assert.Equal(2, e.Line);
        Assert.Contains("t.jsonl:2", e.Message);
        Assert.Equal(EvalTaskErrorKind.FileNotFound, Assert.Throws<EvalTaskException>(() => EvalTaskParser.LoadFile(Path.Combine(dir.Path, "none.json"))).Kind);
    }

    [Fact]
    public void MalformedDataNamesFileAndLine()
    {
        using var dir = new TempFolder();
        var task = Synthetic.Task(dir);
        dir.WriteJsonl("train.jsonl", Synthetic.Train);
        dir.Write("test.jsonl", "{\"question\": \"a\", \"answer\": \"#### 1\"}\n\n{\"question\": \"b\"}\n");
        var e = Assert.Throws<EvalTaskException>(() => AccuracyPlan.Prepare(task));
        Assert.Equal((EvalTaskErrorKind.MalformedData, 3), (e.Kind, e.Line));
        Assert.Contains("test.jsonl:3", e.Message);
        Assert.Contains("'answer' is missing", e.Message);

        dir.Write("test.jsonl", "{\"question\": \"a\", \"answer\": \"#### 1\"}\n{\"question\": \"b\", \"answer\": \"#### 2\"\n");
        e = Assert.Throws<EvalTaskException>(() => AccuracyPlan.Prepare(task));
        Assert.Equal(2, e.Line);
        Assert.Contains("not valid JSON", e.Message);

        dir.Write("test.jsonl", "[1, 2]\n");
        Assert.Contains("expected a JSON object", Assert.Throws<EvalTaskException>(() => AccuracyPlan.Prepare(task)).Message);

        File.Delete(Path.Combine(dir.Path, "test.jsonl"));
        e = Assert.Throws<EvalTaskException>(() => AccuracyPlan.Prepare(task));
        Assert.Equal(EvalTaskErrorKind.FileNotFound, e.Kind);
        Assert.Contains("test.jsonl", e.Message);
    }

    [Fact]
    public void Gsm8kNeedsADataFolderOrItsVariable()
    {
        var task = EvalTaskParser.BuiltIn("gsm8k");
        var saved = Environment.GetEnvironmentVariable("FSE_GSM8K_PATH");
        try
        {
            Environment.SetEnvironmentVariable("FSE_GSM8K_PATH", null);
            var e = Assert.Throws<EvalTaskException>(() => TaskDataLocator.ResolveFolder(task, null));
            Assert.Equal(EvalTaskErrorKind.DataPathRequired, e.Kind);
            Assert.Contains("FSE_GSM8K_PATH", e.Message);
            Assert.Contains("test.jsonl and train.jsonl", e.Message);
            Environment.SetEnvironmentVariable("FSE_GSM8K_PATH", Fse.Tests.SharedData.PathOf("gsm8k"));
            Assert.Equal(Path.GetFullPath(Fse.Tests.SharedData.PathOf("gsm8k")), TaskDataLocator.ResolveFolder(task, null));
            Assert.Equal(EvalTaskErrorKind.FileNotFound, Assert.Throws<EvalTaskException>(() => TaskDataLocator.ResolveFolder(task, "/no/such/folder")).Kind);
        }
        finally
        {
            Environment.SetEnvironmentVariable("FSE_GSM8K_PATH", saved);
        }
    }

    [Fact]
    public void TemplatesSubstituteFieldsVerbatim()
    {
        var t = PromptTemplate.Parse("A {{ x }}-{{y}}\n{{x}}\n", "t");
        var doc = new EvalDocument(0, new Dictionary<string, string> { ["x"] = "{{y}} $1 \\n", ["y"] = "é" });
        Assert.Equal("A {{y}} $1 \\n-é\n{{y}} $1 \\n\n", t.Render(doc));
        Assert.Equal(["x", "y"], t.Fields);
        Assert.Equal("é", PromptTemplate.Parse("y", "t").Render(doc));   // a template that names a field renders it
        Assert.Throws<FormatException>(() => PromptTemplate.Parse("{{x", "t"));
    }

    private static string RemoveBaseKey(string json, string extra)
    {
        foreach (var key in new[] { "\"num_fewshot\"", "\"fewshot_config\"", "\"generation_kwargs\"", "\"metric_list\"", "\"filter_list\"" })
        {
            if (!extra.StartsWith(key, StringComparison.Ordinal)) continue;
            var lines = json.Split('\n').ToList();
            int at = lines.FindLastIndex(l => l.TrimStart().StartsWith(key, StringComparison.Ordinal));
            lines.RemoveAt(at);
            return string.Join('\n', lines);
        }
        return json;
    }
}
