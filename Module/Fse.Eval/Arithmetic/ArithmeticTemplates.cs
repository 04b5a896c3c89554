using System.Globalization;

namespace Fse.Eval.Arithmetic;

/// <summary>
/// The problem templates: five with one operation (+, −, ×) and five with two. Each draws its operands, people and
/// objects, and writes a question and an answer that shows every computation (<c>12 + 7 = 19</c>) on its own line, then
/// <c>#### N</c>, as GSM8K's answers do. Results are never negative. The key is the template and its operands.
/// </summary>
internal static class ArithmeticTemplates
{
    public static IReadOnlyList<(string Id, Func<ProblemDraw, ArithmeticProblem> Make)> All { get; } =
    [
        ("add-more", AddMore),
        ("add-together", AddTogether),
        ("sub-give", SubtractGive),
        ("sub-compare", SubtractCompare),
        ("mul-bags", MultiplyBags),
        ("add-sub", AddThenSubtract),
        ("sub-add", SubtractThenAdd),
        ("add-add", AddThenAdd),
        ("mul-add", MultiplyThenAdd),
        ("mul-sub", MultiplyThenSubtract),
    ];

    private static ArithmeticProblem AddMore(ProblemDraw d)
    {
        int a = d.TwoDigit(), b = d.TwoDigit(), r = a + b;
        var t = d.Thing();
        var p = d.People(1)[0];
        return Make("add-more", [a, b], r,
            $"{p.Name} has {a} {t}. {p.He} buys {b} more {t}. How many {t} does {p.Name} have now?",
            $"{p.Name} has {a} + {b} = {r} {t} now.");
    }

    private static ArithmeticProblem AddTogether(ProblemDraw d)
    {
        int a = d.TwoDigit(), b = d.TwoDigit(), r = a + b;
        var t = d.Thing();
        var ps = d.People(2);
        return Make("add-together", [a, b], r,
            $"{ps[0].Name} has {a} {t} and {ps[1].Name} has {b} {t}. How many {t} do they have together?",
            $"Together they have {a} + {b} = {r} {t}.");
    }

    private static ArithmeticProblem SubtractGive(ProblemDraw d)
    {
        var (a, b) = Ordered(d.TwoDigit(), d.TwoDigit());
        int r = a - b;
        var t = d.Thing();
        var ps = d.People(2);
        return Make("sub-give", [a, b], r,
            $"{ps[0].Name} has {a} {t}. {ps[0].He} gives {b} {t} to {ps[1].Name}. How many {t} does {ps[0].Name} have left?",
            $"{ps[0].Name} has {a} - {b} = {r} {t} left.");
    }

    private static ArithmeticProblem SubtractCompare(ProblemDraw d)
    {
        var (a, b) = Ordered(d.TwoDigit(), d.TwoDigit());
        int r = a - b;
        var t = d.Thing();
        var ps = d.People(2);
        return Make("sub-compare", [a, b], r,
            $"{ps[0].Name} has {a} {t}. {ps[1].Name} has {b} {t}. How many more {t} does {ps[0].Name} have than {ps[1].Name}?",
            $"{ps[0].Name} has {a} - {b} = {r} more {t} than {ps[1].Name}.");
    }

    private static ArithmeticProblem MultiplyBags(ProblemDraw d)
    {
        int a = d.Factor(), b = d.Multiplicand(), r = a * b;
        var t = d.Thing();
        var p = d.People(1)[0];
        return Make("mul-bags", [a, b], r,
            $"{p.Name} buys {a} bags of {t}. Each bag has {b} {t}. How many {t} does {p.Name} buy?",
            $"{p.Name} buys {a} * {b} = {r} {t}.");
    }

    private static ArithmeticProblem AddThenSubtract(ProblemDraw d)
    {
        int a = d.TwoDigit(), b = d.TwoDigit(), s = a + b, c = d.Int(2, Math.Min(99, s)), r = s - c;
        var t = d.Thing();
        var p = d.People(1)[0];
        return Make("add-sub", [a, b, c], r,
            $"{p.Name} has {a} {t}. {p.He} finds {b} more {t} and then loses {c} {t}. How many {t} does {p.Name} have now?",
            $"After finding more, {p.Name} has {a} + {b} = {s} {t}.",
            $"After losing some, {p.Name} has {s} - {c} = {r} {t}.");
    }

    private static ArithmeticProblem SubtractThenAdd(ProblemDraw d)
    {
        var (a, b) = Ordered(d.TwoDigit(), d.TwoDigit());
        int s = a - b, c = d.TwoDigit(), r = s + c;
        var t = d.Thing();
        var ps = d.People(3);
        return Make("sub-add", [a, b, c], r,
            $"{ps[0].Name} has {a} {t}. {ps[0].He} gives {b} {t} to {ps[1].Name} and then gets {c} {t} from {ps[2].Name}. How many {t} does {ps[0].Name} have now?",
            $"After giving some away, {ps[0].Name} has {a} - {b} = {s} {t}.",
            $"After getting more, {ps[0].Name} has {s} + {c} = {r} {t}.");
    }

    private static ArithmeticProblem AddThenAdd(ProblemDraw d)
    {
        int a = d.TwoDigit(), b = d.TwoDigit(), s = a + b, c = d.TwoDigit(), r = s + c;
        var t = d.Thing();
        var ps = d.People(3);
        return Make("add-add", [a, b, c], r,
            $"{ps[0].Name} has {a} {t}. {ps[1].Name} gives {ps[0].Him} {b} {t} and {ps[2].Name} gives {ps[0].Him} {c} {t}. How many {t} does {ps[0].Name} have now?",
            $"After the first gift, {ps[0].Name} has {a} + {b} = {s} {t}.",
            $"After the second gift, {ps[0].Name} has {s} + {c} = {r} {t}.");
    }

    private static ArithmeticProblem MultiplyThenAdd(ProblemDraw d)
    {
        int a = d.Factor(), b = d.Multiplicand(), s = a * b, c = d.TwoDigit(), r = s + c;
        var t = d.Thing();
        var p = d.People(1)[0];
        return Make("mul-add", [a, b, c], r,
            $"{p.Name} buys {a} boxes of {t} with {b} {t} in each box. {p.He} already had {c} {t}. How many {t} does {p.Name} have now?",
            $"The boxes hold {a} * {b} = {s} {t}.",
            $"{p.Name} now has {s} + {c} = {r} {t}.");
    }

    private static ArithmeticProblem MultiplyThenSubtract(ProblemDraw d)
    {
        int a = d.Factor(), b = d.Multiplicand(), s = a * b, c = d.Int(2, Math.Min(99, s)), r = s - c;
        var t = d.Thing();
        var ps = d.People(2);
        return Make("mul-sub", [a, b, c], r,
            $"{ps[0].Name} has {a} packs of {t} with {b} {t} in each pack. {ps[0].He} gives {c} {t} to {ps[1].Name}. How many {t} does {ps[0].Name} have left?",
            $"{ps[0].Name} has {a} * {b} = {s} {t}.",
            $"After giving some away, {ps[0].Name} has {s} - {c} = {r} {t} left.");
    }

    private static (int Larger, int Smaller) Ordered(int x, int y) => x >= y ? (x, y) : (y, x);

    private static ArithmeticProblem Make(string id, int[] operands, int result, string question, params string[] steps)
    {
        var key = id + ":" + string.Join(",", operands.Select(o => o.ToString(CultureInfo.InvariantCulture)));
        var answer = string.Join("\n", steps) + "\n#### " + result.ToString(CultureInfo.InvariantCulture);
        return new ArithmeticProblem(id, key, question, answer, result);
    }
}
