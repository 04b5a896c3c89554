using Fse.Eval.Tasks;

namespace Fse.Eval.Scoring;

/// <summary>One filter's verdict on one response.</summary>
public sealed record FilterScore(string Filter, string Extracted, string ExtractedNormalised, bool Invalid, bool Correct);

/// <summary>Scores a response the way lm-eval's <c>process_results</c> does for a generate_until task: every filter, then exact_match against the target.</summary>
public static class ItemScorer
{
    public static IReadOnlyList<FilterScore> Score(EvalTaskDefinition task, string response, string reference)
    {
        var scores = new FilterScore[task.Filters.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            var f = task.Filters[i];
            var outcome = f.Apply(response);
            scores[i] = new FilterScore(f.Name, outcome.Value, task.Metric.Normalise(outcome.Value), outcome.Invalid,
                task.Metric.IsMatch(outcome.Value, reference));
        }
        return scores;
    }
}
