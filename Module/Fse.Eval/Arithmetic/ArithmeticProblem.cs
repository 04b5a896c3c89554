namespace Fse.Eval.Arithmetic;

/// <summary>
/// One generated word problem in GSM8K's format: the question, an answer that shows each computation on its own line
/// and ends in <c>#### N</c>, the result N, and the canonical key (template and operands, not names or objects) that
/// decides its split.
/// </summary>
public sealed record ArithmeticProblem(string Template, string Key, string Question, string Answer, int Result)
{
    /// <summary>The problem as lm-eval data: the fields <c>question</c> and <c>answer</c>.</summary>
    public Data.EvalDocument ToDocument(int index) =>
        new(index, new Dictionary<string, string>(StringComparer.Ordinal) { ["question"] = Question, ["answer"] = Answer });
}
