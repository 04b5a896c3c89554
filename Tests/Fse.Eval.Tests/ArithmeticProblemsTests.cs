using System.Globalization;
using System.Text.RegularExpressions;
using Fse.Eval.Arithmetic;

namespace Fse.Eval.Tests;

public partial class ArithmeticProblemsTests
{
    [Fact]
    public void TheSameSeedGivesTheSameProblemsAndAnotherSeedOthers()
    {
        var a = ArithmeticProblems.Take(ArithmeticSplit.Train, 11, 300);
        var b = ArithmeticProblems.Take(ArithmeticSplit.Train, 11, 300);
        var c = ArithmeticProblems.Take(ArithmeticSplit.Train, 12, 300);
        Assert.Equal(a, b);
        Assert.True(a.Zip(c).Count(p => p.First.Question == p.Second.Question) < 10);
        Assert.Equal(ArithmeticProblems.Take(ArithmeticSplit.Test, 5, 40), ArithmeticProblems.Take(ArithmeticSplit.Test, 5, 100).Take(40));
    }

    [Fact]
    public void TrainAndTestShareNoProblemForAnySeeds()
    {
        var train = ArithmeticProblems.Take(ArithmeticSplit.Train, 3, 30_000);
        var test = ArithmeticProblems.Take(ArithmeticSplit.Test, 4, 2_000).Concat(ArithmeticProblems.Take(ArithmeticSplit.Test, 3, 2_000)).ToList();
        var trainKeys = train.Select(p => p.Key).ToHashSet();
        var trainQuestions = train.Select(p => p.Question).ToHashSet();
        Assert.DoesNotContain(test, p => trainKeys.Contains(p.Key) || trainQuestions.Contains(p.Question));
        Assert.All(train, p => Assert.Equal(ArithmeticSplit.Train, ArithmeticSplits.Of(p.Key)));
        Assert.All(test, p => Assert.Equal(ArithmeticSplit.Test, ArithmeticSplits.Of(p.Key)));
        // The test stream never repeats a problem; the train stream may (other names and objects, same arithmetic).
        var oneSeed = ArithmeticProblems.Take(ArithmeticSplit.Test, 4, 2_000);
        Assert.Equal(oneSeed.Count, oneSeed.Select(p => p.Key).Distinct().Count());
        // About a tenth of a template's keys are held out.
        var keys = from a in Enumerable.Range(2, 98) from b in Enumerable.Range(2, 98) select $"add-more:{a},{b}";
        double heldOut = keys.Average(k => ArithmeticSplits.Of(k) == ArithmeticSplit.Test ? 1.0 : 0.0);
        Assert.InRange(heldOut, 0.09, 0.11);
    }

    [Fact]
    public void EveryAnswerShowsItsComputationsAndTheirResultsAreRight()
    {
        var problems = ArithmeticProblems.Take(ArithmeticSplit.Train, 21, 5_000);
        foreach (var p in problems)
        {
            var lines = p.Answer.Split('\n');
            Assert.Equal("#### " + p.Result.ToString(CultureInfo.InvariantCulture), lines[^1]);
            Assert.InRange(lines.Length, 2, 3);
            int? last = null;
            foreach (var line in lines[..^1])
            {
                var m = Computation().Match(line);
                Assert.True(m.Success, $"no computation in '{line}' ({p.Key})");
                int x = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), y = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
                int z = int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
                Assert.Equal(m.Groups[2].Value switch { "+" => x + y, "-" => x - y, _ => x * y }, z);
                if (m.Groups[2].Value == "*") { Assert.InRange(x, 2, 9); Assert.InRange(y, 2, 15); }
                else Assert.InRange(y, 2, 99);
                if (last is { } previous) Assert.Equal(previous, x);
                last = z;
            }
            Assert.Equal(p.Result, last);
            Assert.True(p.Result >= 0);
            Assert.Contains(p.Template, ArithmeticProblems.Templates);
            Assert.StartsWith(p.Template + ":", p.Key);
            foreach (var operand in p.Key[(p.Template.Length + 1)..].Split(','))
                Assert.Contains(operand, p.Question);
            Assert.EndsWith("?", p.Question);
        }
        // Every template is used, about equally often (the generator picks one uniformly per draw).
        var counts = problems.GroupBy(p => p.Template).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(ArithmeticProblems.Templates.Order(), counts.Keys.Order());
        Assert.All(counts.Values, c => Assert.InRange(c, 400, 600));
    }

    [Fact]
    public void ProblemsBecomeGsm8kDocuments()
    {
        var p = ArithmeticProblems.Take(ArithmeticSplit.Test, 1, 1)[0];
        var doc = p.ToDocument(7);
        Assert.Equal(7, doc.Index);
        Assert.Equal(p.Question, doc.Fields["question"]);
        Assert.Equal(p.Answer, doc.Fields["answer"]);
        Assert.Matches(@"\n#### [0-9]+$", doc.Fields["answer"]);
    }

    [GeneratedRegex(@"(\d+) ([-+*]) (\d+) = (\d+)")]
    private static partial Regex Computation();
}
