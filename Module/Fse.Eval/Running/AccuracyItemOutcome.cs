using Fse.Eval.Scoring;

namespace Fse.Eval.Running;

/// <summary>
/// What became of one item: its response and per-filter scores, or (when <see cref="Failed"/>) the error that
/// remained after every retry.
/// </summary>
public sealed record AccuracyItemOutcome(
    int Index,
    string PromptSha256,
    string Reference,
    string? Response,
    string? FinishReason,
    int Attempts,
    string? Error,
    IReadOnlyList<FilterScore> Scores)
{
    public bool Failed => Error is not null;
}
