using Fse.Eval.Sampling;

namespace Fse.Eval.Arithmetic;

/// <summary>
/// Seeded generator of grade-school arithmetic word problems in GSM8K's format (<c>question</c>; <c>answer</c> with one
/// line per computation and a final <c>#### N</c>): ten templates with one or two operations (+ and − on numbers up to
/// 99, × of a digit by 2..15), twenty names and eighteen kinds of object. A stream for a split draws a template, then
/// its operands, people and objects, from CPython's Mersenne Twister seeded with the seed (with the split folded in,
/// so the two streams differ), and keeps a problem only if its canonical key belongs to the split
/// (<see cref="ArithmeticSplits"/>). The train and test splits are therefore disjoint by construction for any seeds;
/// the test stream also skips keys it has already given, the train stream does not (repeats with other names and
/// objects are useful training data). The same split and seed give the same problems on every platform.
/// </summary>
public static class ArithmeticProblems
{
    /// <summary>The template ids, in the order the generator chooses among them.</summary>
    public static IReadOnlyList<string> Templates { get; } = [.. ArithmeticTemplates.All.Select(t => t.Id)];

    /// <summary>An endless stream of the split's problems for a seed.</summary>
    public static IEnumerable<ArithmeticProblem> Generate(ArithmeticSplit split, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        // Seeds for the two splits are 2·seed and 2·seed + 1: different streams, both reproducible from the one seed.
        var random = new PythonRandom(2 * (System.Numerics.BigInteger)seed + (split == ArithmeticSplit.Test ? 1 : 0));
        var draw = new ProblemDraw(random);
        var given = split == ArithmeticSplit.Test ? new HashSet<string>(StringComparer.Ordinal) : null;
        var templates = ArithmeticTemplates.All;
        while (true)
        {
            var problem = templates[(int)random.RandBelow(templates.Count)].Make(draw);
            if (ArithmeticSplits.Of(problem.Key) != split) continue;
            if (given is not null && !given.Add(problem.Key)) continue;
            yield return problem;
        }
    }

    /// <summary>The first <paramref name="count"/> problems of the split's stream for a seed.</summary>
    public static IReadOnlyList<ArithmeticProblem> Take(ArithmeticSplit split, long seed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return [.. Generate(split, seed).Take(count)];
    }
}
