using System.Text.Json;
using Fse.Eval.Tasks;

namespace Fse.Eval.Tests;

/// <summary>Temporary folders with JSONL data and task files, removed when disposed.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fse-eval-" + Guid.NewGuid().ToString("N"));

    public string Write(string name, string text)
    {
        var p = System.IO.Path.Combine(Path, name);
        File.WriteAllText(p, text);
        return p;
    }

    public string WriteJsonl(string name, IEnumerable<object> rows) =>
        Write(name, string.Join("\n", rows.Select(r => JsonSerializer.Serialize(r))) + "\n");

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// A small synthetic task whose prompts were produced by lm-eval's own sampler code (ContextSampler, FirstNSampler) and
/// Message/build_qa_turn assembly, run under CPython 3.11 with Jinja2 on the same documents.
/// </summary>
public static class Synthetic
{
    private static readonly string[] Words = ["apples", "pears", "émigrés", "naïve cats", "kilograms", "$ bills", "µs"];

    public static IReadOnlyList<object> Train { get; } =
        [.. Enumerable.Range(0, 30).Select(i => new { question = $"Train {i}: how many {Words[i % Words.Length]} are left?", answer = $"Step {i} ×2 = {2 * i}.\n#### {2 * i}" })];

    public static IReadOnlyList<object> Test { get; } =
    [
        new { question = "Test A: what is 3 + 4?\nThink.", answer = "3 + 4 = 7\n#### 7" },
        new { question = "Test B: “quoted” 10 − 1?", answer = "#### 9" },
    ];

    public static string TaskJson(string sampler = "default", string test = "test.jsonl", string fewshot = "train.jsonl", int shots = 3) => $$$"""
        {
          "task": "synthetic",
          "data": { "test": "{{{test}}}", "fewshot": "{{{fewshot}}}" },
          "doc_to_text": "Q: {{question}}\nA:",
          "doc_to_target": "{{answer}}",
          "num_fewshot": {{{shots}}},
          "fewshot_config": { "sampler": "{{{sampler}}}" },
          "generation_kwargs": { "until": ["Q:"], "max_gen_toks": 32 },
          "metric_list": [ { "metric": "exact_match", "ignore_case": true, "regexes_to_ignore": [",", "(?s).*#### "] } ],
          "filter_list": [ { "name": "strict-match", "filter": [ { "function": "regex", "regex_pattern": "#### (\\-?[0-9\\.\\,]+)" }, { "function": "take_first" } ] } ]
        }
        """;

    public static EvalTaskDefinition Task(TempFolder dir, string sampler = "default", string test = "test.jsonl", string fewshot = "train.jsonl") =>
        EvalTaskParser.LoadFile(dir.Write("task.json", TaskJson(sampler, test, fewshot))).Single();
}
