using System.Security.Cryptography;
using System.Text;
using Fse.Eval.Data;
using Fse.Eval.Tasks;

namespace Fse.Eval.Prompting;

/// <summary>One item to ask the server: its position in the test split, the prompt, the reference answer.</summary>
public sealed record AccuracyPromptItem(int Index, string Prompt, string Reference, IReadOnlyList<int> FewshotIndices)
{
    /// <summary>SHA-256 of the prompt's UTF-8 bytes, lower-case hex: two runs with equal hashes asked the same thing.</summary>
    public string PromptSha256 { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Prompt)));
}

/// <summary>
/// A task's data read and every prompt built, before any request is sent. Prompts are built in document order from
/// one seeded sampler, as lm-eval builds them, so <c>Limit = n</c> gives exactly lm-eval's first n prompts.
/// </summary>
public sealed class AccuracyPlan
{
    private AccuracyPlan(EvalTaskDefinition task, string? dataFolder, int numFewshot, long seed, int? limit, int documents, IReadOnlyList<AccuracyPromptItem> items)
    {
        Task = task;
        DataFolder = dataFolder;
        NumFewshot = numFewshot;
        Seed = seed;
        Limit = limit;
        DocumentCount = documents;
        Items = items;
    }

    public EvalTaskDefinition Task { get; }
    /// <summary>The folder the data files were read from; null for a task whose data is generated.</summary>
    public string? DataFolder { get; }
    public int NumFewshot { get; }
    public long Seed { get; }
    public int? Limit { get; }

    /// <summary>The number of documents in the test split (before the limit).</summary>
    public int DocumentCount { get; }

    public IReadOnlyList<AccuracyPromptItem> Items { get; }

    /// <param name="dataPath">The data folder; null to use the task's environment variable or its file's folder. Generated tasks ignore it.</param>
    /// <param name="numFewshot">Overrides the task's num_fewshot.</param>
    /// <param name="limit">Takes the first n test documents.</param>
    /// <param name="seed">The few-shot sampler's seed (lm-eval's fewshot_random_seed, 1234 by default).</param>
    public static AccuracyPlan Prepare(EvalTaskDefinition task, string? dataPath = null, int? numFewshot = null, int? limit = null, long seed = 1234)
    {
        if (limit is < 1) throw new ArgumentOutOfRangeException(nameof(limit), "The limit must be at least 1.");
        int shots = numFewshot ?? task.NumFewshot;
        if (shots < 0) throw new ArgumentOutOfRangeException(nameof(numFewshot), "The number of few-shot examples must be 0 or more.");
        var docs = TaskDocuments.Load(task, dataPath, withFewshot: shots > 0);
        var test = docs.Test;
        var sampler = docs.Fewshot is { } pool ? new FewshotSampler(pool, task.Sampler, seed, docs.FewshotIsTest) : null;

        int count = Math.Min(limit ?? test.Count, test.Count);
        var items = new AccuracyPromptItem[count];
        for (int i = 0; i < count; i++)
        {
            var doc = test[i];
            var examples = sampler?.Sample(shots, doc) ?? [];
            items[i] = new AccuracyPromptItem(doc.Index, PromptBuilder.Build(task, doc, examples), task.DocToTarget.Render(doc), [.. examples.Select(e => e.Index)]);
        }
        return new AccuracyPlan(task, docs.DataFolder, shots, seed, limit, test.Count, items);
    }
}
