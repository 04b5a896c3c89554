using Fse.Eval.Prompting;
using Fse.Eval.Statistics;

namespace Fse.Eval.Running;

/// <summary>Turns a run's finished outcomes into lm-eval's per-filter aggregates and per-item records.</summary>
public static class AccuracySummary
{
    /// <summary>One <see cref="FseAccuracyResult"/> per filter of the task, in the task's filter order.</summary>
    /// <param name="interrupted">The run was stopped before every item finished.</param>
    public static IReadOnlyList<FseAccuracyResult> Results(AccuracyPlan plan, AccuracyRunInfo info, IReadOnlyCollection<AccuracyItemOutcome> outcomes,
        bool interrupted, TimeSpan duration)
    {
        var scored = outcomes.Where(o => !o.Failed).ToList();
        int failed = outcomes.Count - scored.Count;
        return [.. plan.Task.Filters.Select((f, i) =>
        {
            var values = scored.Select(o => o.Scores[i].Correct ? 1.0 : 0.0).ToList();
            return new FseAccuracyResult
            {
                Task = plan.Task.Name,
                TaskVersion = plan.Task.Version,
                Filter = f.Name,
                Score = MeanStderr.Mean(values),
                Stderr = MeanStderr.Stderr(values),
                N = values.Count,
                Invalid = scored.Count(o => o.Scores[i].Invalid),
                Failed = failed,
                Total = plan.Items.Count,
                Interrupted = interrupted,
                Model = info.Model,
                Fse = info.Fse,
                Device = info.Device,
                Server = info.Server,
                NumFewshot = plan.NumFewshot,
                Seed = plan.Seed,
                MaxTokens = info.MaxTokens,
                Limit = plan.Limit,
                Concurrency = info.Concurrency,
                StartedAt = info.StartedAt,
                DurationSeconds = duration.TotalSeconds,
            };
        })];
    }

    /// <summary>The per-item records of one outcome, one per filter; a failed item gets one per filter too (Failed, with its error), so pairing by filter always finds it.</summary>
    public static IReadOnlyList<FseAccuracyItem> Items(AccuracyPlan plan, AccuracyRunInfo info, AccuracyItemOutcome outcome)
    {
        var reference = plan.Task.Metric.Normalise(outcome.Reference);
        return [.. plan.Task.Filters.Select((f, i) => outcome.Failed
            ? new FseAccuracyItem
            {
                Task = plan.Task.Name, Index = outcome.Index, Filter = f.Name, PromptSha256 = outcome.PromptSha256,
                Reference = outcome.Reference, ReferenceNormalised = reference, Failed = true, Error = outcome.Error,
                Attempts = outcome.Attempts, Model = info.Model, Fse = info.Fse,
            }
            : new FseAccuracyItem
            {
                Task = plan.Task.Name, Index = outcome.Index, Filter = f.Name, PromptSha256 = outcome.PromptSha256,
                Response = outcome.Response, Extracted = outcome.Scores[i].Extracted, Reference = outcome.Reference,
                ExtractedNormalised = outcome.Scores[i].ExtractedNormalised, ReferenceNormalised = reference,
                Correct = outcome.Scores[i].Correct, Invalid = outcome.Scores[i].Invalid, FinishReason = outcome.FinishReason,
                Attempts = outcome.Attempts, Model = info.Model, Fse = info.Fse,
            })];
    }
}
