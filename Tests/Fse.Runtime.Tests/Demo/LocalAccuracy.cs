using Fse.Eval.Prompting;
using Fse.Eval.Scoring;
using Fse.Eval.Statistics;

namespace Fse.Runtime.Tests.Demo;

/// <summary>One accuracy run: each item's response and whether each filter's extraction matched the reference.</summary>
public sealed record LocalAccuracyRun(string Name, IReadOnlyList<string> Responses, IReadOnlyList<IReadOnlyList<FilterScore>> Scores, TimeSpan Elapsed)
{
    public int Count => Scores.Count;

    /// <summary>1 or 0 per item for the named filter, in item order.</summary>
    public double[] Correct(string filter) => [.. Scores.Select(s => s.Single(f => f.Filter == filter).Correct ? 1.0 : 0.0)];

    public double Accuracy(string filter) => MeanStderr.Mean(Correct(filter));

    public double Stderr(string filter) => MeanStderr.Stderr(Correct(filter));

    public override string ToString() =>
        $"{Name}: strict-match {Accuracy("strict-match"):0.000} ± {Stderr("strict-match"):0.000}, flexible-extract {Accuracy("flexible-extract"):0.000} "
        + $"over {Count} items in {Elapsed.TotalSeconds:0.0} s";
}

/// <summary>
/// Runs an accuracy plan on a model in this process, as Invoke-FseAccuracy runs it against a server: the plan's prompts,
/// greedy completions cut at the task's stop strings, and the task's filters and exact_match.
/// </summary>
public static class LocalAccuracy
{
    public static LocalAccuracyRun Run(string name, AccuracyPlan plan, LocalCompletion completion, int? items = null, int? maxTokens = null)
    {
        var task = plan.Task;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var chosen = plan.Items.Take(items ?? plan.Items.Count).ToList();
        var responses = new List<string>(chosen.Count);
        var scores = new List<IReadOnlyList<FilterScore>>(chosen.Count);
        foreach (var item in chosen)
        {
            var response = completion.Complete(item.Prompt, maxTokens ?? task.MaxGenTokens, task.Until);
            responses.Add(response);
            scores.Add(ItemScorer.Score(task, response, item.Reference));
        }
        return new LocalAccuracyRun(name, responses, scores, clock.Elapsed);
    }
}
