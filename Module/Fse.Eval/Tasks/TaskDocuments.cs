using Fse.Eval.Data;

namespace Fse.Eval.Tasks;

/// <summary>
/// A task's documents: the scored split and, when few-shot examples are asked for, the pool they are drawn from.
/// File tasks read JSONL from their data folder; generated tasks make both splits and need no folder.
/// </summary>
/// <param name="Test">The scored documents, in order.</param>
/// <param name="Fewshot">The few-shot pool; null when none was asked for.</param>
/// <param name="FewshotIsTest">Whether the pool is the scored split itself (lm-eval then drops the evaluated document from each draw).</param>
/// <param name="DataFolder">The folder the files were read from; null for generated data.</param>
public sealed record TaskDocuments(IReadOnlyList<EvalDocument> Test, IReadOnlyList<EvalDocument>? Fewshot, bool FewshotIsTest, string? DataFolder)
{
    /// <param name="dataPath">The data folder of a file task; null to use its environment variable or its file's folder. Ignored for generated data.</param>
    /// <param name="withFewshot">Whether the few-shot pool is needed.</param>
    public static TaskDocuments Load(EvalTaskDefinition task, string? dataPath, bool withFewshot)
    {
        if (task.Generated is { } generated)
        {
            if (withFewshot && generated.FewshotSize == 0)
                throw new EvalTaskException(EvalTaskErrorKind.InvalidDefinition, $"The task '{task.Name}' generates no few-shot pool (fewshot_size 0), so it cannot run few-shot.");
            return new TaskDocuments(GeneratedDocuments.Test(generated), withFewshot ? GeneratedDocuments.Fewshot(generated) : null, false, null);
        }

        var folder = TaskDataLocator.ResolveFolder(task, dataPath);
        var testPath = Path.Combine(folder, task.TestFile!);
        var test = JsonlDataset.Load(testPath, task.RequiredFields);
        if (test.Count == 0)
            throw new EvalTaskException(EvalTaskErrorKind.MalformedData, $"The data file '{testPath}' holds no documents.", testPath);
        if (!withFewshot) return new TaskDocuments(test, null, false, folder);
        if (task.FewshotFile is null)
            throw new EvalTaskException(EvalTaskErrorKind.InvalidDefinition, $"The task '{task.Name}' names no few-shot file, so it cannot run few-shot.");
        var fewshotPath = Path.Combine(folder, task.FewshotFile);
        bool same = string.Equals(Path.GetFullPath(fewshotPath), Path.GetFullPath(testPath), StringComparison.Ordinal);
        return new TaskDocuments(test, same ? test : JsonlDataset.Load(fewshotPath, task.RequiredFields), same, folder);
    }
}
