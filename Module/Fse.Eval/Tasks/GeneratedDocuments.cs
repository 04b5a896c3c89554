using Fse.Eval.Arithmetic;
using Fse.Eval.Data;

namespace Fse.Eval.Tasks;

/// <summary>The generators a task's <c>data.generator</c> may name, and the documents they make.</summary>
public static class GeneratedDocuments
{
    /// <summary><see cref="ArithmeticProblems"/>: GSM8K-style arithmetic word problems (fields question, answer).</summary>
    public const string Arithmetic = "arithmetic";

    public static IReadOnlyList<string> Names { get; } = [Arithmetic];

    public static bool IsKnown(string name) => Names.Contains(name, StringComparer.Ordinal);

    /// <summary>The held-out documents that are scored.</summary>
    public static IReadOnlyList<EvalDocument> Test(GeneratedData data) => Make(data, test: true);

    /// <summary>The few-shot pool, disjoint from <see cref="Test"/>.</summary>
    public static IReadOnlyList<EvalDocument> Fewshot(GeneratedData data) => Make(data, test: false);

    private static EvalDocument[] Make(GeneratedData data, bool test) => data.Generator switch
    {
        Arithmetic => [.. ArithmeticProblems.Take(test ? ArithmeticSplit.Test : ArithmeticSplit.Train, data.Seed, test ? data.TestSize : data.FewshotSize)
            .Select((p, i) => p.ToDocument(i))],
        _ => throw new EvalTaskException(EvalTaskErrorKind.InvalidDefinition,
            $"There is no data generator '{data.Generator}'; built in: {string.Join(", ", Names)}."),
    };
}
