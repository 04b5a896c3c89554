namespace Fse.Eval.Tasks;

/// <summary>
/// A task's data made by a generator built into the module instead of read from files (the task definition's
/// <c>data</c> object with <c>generator</c>, <c>seed</c>, <c>test_size</c> and <c>fewshot_size</c>). The same
/// definition always gives the same documents.
/// </summary>
/// <param name="Generator">The generator's name (see <see cref="GeneratedDocuments.Names"/>).</param>
/// <param name="Seed">The seed both splits are generated from.</param>
/// <param name="TestSize">How many held-out documents are scored: the first of the test split's stream.</param>
/// <param name="FewshotSize">How many documents of the train split form the few-shot pool.</param>
public sealed record GeneratedData(string Generator, long Seed, int TestSize, int FewshotSize)
{
    public override string ToString() => $"{Generator} (seed {Seed}: {TestSize} test, {FewshotSize} few-shot documents)";
}
