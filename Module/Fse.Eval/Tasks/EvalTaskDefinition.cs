using Fse.Eval.Prompting;
using Fse.Eval.Scoring;

namespace Fse.Eval.Tasks;

/// <summary>How few-shot examples are drawn (lm-eval's <c>fewshot_config.sampler</c>).</summary>
public enum FewshotSamplerKind
{
    /// <summary><c>default</c>: <c>random.Random(seed).sample(fewshot_docs, n)</c>, one seeded stream for the whole task.</summary>
    Default,
    /// <summary><c>first_n</c>: the first n few-shot documents, in order.</summary>
    FirstN,
}

/// <summary>
/// An lm-eval style generation task as data: where its documents are, how a prompt is made, how the model is asked
/// to generate, how answers are extracted and scored. The built-in gsm8k is one of these (an embedded JSON file);
/// users add their own with a JSON or JSONL file of the same shape (see <see cref="EvalTaskParser"/>).
/// </summary>
public sealed class EvalTaskDefinition
{
    public required string Name { get; init; }

    /// <summary>lm-eval's <c>metadata.version</c>, when given.</summary>
    public string? Version { get; init; }

    /// <summary>Text put before the few-shot examples (lm-eval's <c>description</c>), rendered per document.</summary>
    public PromptTemplate? Description { get; init; }

    public required PromptTemplate DocToText { get; init; }

    public required PromptTemplate DocToTarget { get; init; }

    public string TargetDelimiter { get; init; } = " ";

    public string FewshotDelimiter { get; init; } = "\n\n";

    public int NumFewshot { get; init; }

    public FewshotSamplerKind Sampler { get; init; } = FewshotSamplerKind.Default;

    /// <summary>The scored split: a JSONL file, relative to the data folder unless absolute; null when the data is <see cref="Generated"/>.</summary>
    public string? TestFile { get; init; }

    /// <summary>The few-shot split, relative to the data folder unless absolute; null when the task is zero-shot only or its data is generated.</summary>
    public string? FewshotFile { get; init; }

    /// <summary>An environment variable naming the data folder when none is given (FSE_GSM8K_PATH for gsm8k).</summary>
    public string? DataPathVariable { get; init; }

    /// <summary>The generator that makes both splits (the built-in arith task); null when the data is read from files.</summary>
    public GeneratedData? Generated { get; init; }

    /// <summary>Generation stops at any of these (sent as <c>stop</c>, and applied client-side too).</summary>
    public IReadOnlyList<string> Until { get; init; } = [];

    public int MaxGenTokens { get; init; } = 256;

    public double Temperature { get; init; }

    public required ExactMatch Metric { get; init; }

    /// <summary>The named filter pipelines, each scored separately (one <c>FseAccuracyResult</c> per filter).</summary>
    public required IReadOnlyList<ResponseFilter> Filters { get; init; }

    /// <summary>The file the definition came from; null for a built-in task. Relative data paths may resolve against its folder.</summary>
    public string? SourcePath { get; init; }

    /// <summary>The fields every document must have.</summary>
    public IReadOnlyList<string> RequiredFields =>
        [.. DocToText.Fields.Concat(DocToTarget.Fields).Concat(Description?.Fields ?? []).Distinct(StringComparer.Ordinal)];

    public override string ToString() => Name;
}
