using Fse.Records;

namespace Fse.Eval;

/// <summary>Accuracy results and per-item records as CSV (see <see cref="ResultCsv{T}"/>).</summary>
public static class FseAccuracyCsv
{
    public static ResultCsv<FseAccuracyResult> Results { get; } = new("accuracy result", "Task", "Filter", "Score", "Stderr", "N");

    public static ResultCsv<FseAccuracyItem> Items { get; } = new("accuracy item", "Task", "Index", "Filter", "PromptSha256", "Correct");
}
