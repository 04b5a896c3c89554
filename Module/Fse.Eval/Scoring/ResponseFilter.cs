using System.Text.RegularExpressions;

namespace Fse.Eval.Scoring;

/// <summary>One step of an lm-eval filter pipeline, applied to the (single) response of an item.</summary>
public abstract class FilterStep
{
    /// <summary>The lm-eval function name (<c>regex</c>, <c>take_first</c>, <c>lowercase</c>, <c>uppercase</c>).</summary>
    public abstract string Function { get; }

    /// <summary>Transforms the value; sets <paramref name="fellBack"/> when a regex step found nothing and gave its fallback.</summary>
    public abstract string Apply(string value, ref bool fellBack);
}

/// <summary>
/// lm-eval's <c>RegexFilter</c>: <c>re.findall</c>, the match at <c>group_select</c> (negative counts from the end);
/// for a pattern with several groups, the first non-empty group of that match; then <c>strip()</c>. No match (or no
/// non-empty group) gives the fallback, <c>[invalid]</c> by default.
/// </summary>
public sealed class RegexFilterStep(string pattern, int groupSelect = 0, string fallback = RegexFilterStep.DefaultFallback) : FilterStep
{
    public const string DefaultFallback = "[invalid]";

    private readonly Regex _regex = PythonRegex.Compile(pattern);

    public override string Function => "regex";

    public string Pattern { get; } = pattern;

    public int GroupSelect { get; } = groupSelect;

    public string Fallback { get; } = fallback;

    public override string Apply(string value, ref bool fellBack)
    {
        var matches = PythonRegex.FindAll(_regex, value);
        // Python would raise IndexError for a group_select outside the matches; a response is scored, not fatal.
        int at = GroupSelect < 0 ? matches.Count + GroupSelect : GroupSelect;
        if (matches.Count == 0 || at < 0 || at >= matches.Count)
        {
            fellBack = true;
            return Fallback;
        }
        var match = matches[at];
        string picked;
        if (match.Length == 1) picked = match[0];
        else
        {
            var firstNonEmpty = match.FirstOrDefault(g => g.Length > 0);
            if (firstNonEmpty is null) fellBack = true;
            picked = firstNonEmpty ?? Fallback;
        }
        return PythonText.Strip(picked);
    }
}

/// <summary>lm-eval's <c>take_first</c>: keeps the first of an item's responses; with one response per item it passes the value through.</summary>
public sealed class TakeFirstStep : FilterStep
{
    public override string Function => "take_first";

    public override string Apply(string value, ref bool fellBack) => value;
}

/// <summary>lm-eval's <c>lowercase</c> filter.</summary>
public sealed class LowercaseStep : FilterStep
{
    public override string Function => "lowercase";

    public override string Apply(string value, ref bool fellBack) => PythonText.Lower(value);
}

/// <summary>lm-eval's <c>uppercase</c> filter.</summary>
public sealed class UppercaseStep : FilterStep
{
    public override string Function => "uppercase";

    public override string Apply(string value, ref bool fellBack) => PythonText.Upper(value);
}

/// <summary>A named filter pipeline (an entry of lm-eval's <c>filter_list</c>), e.g. <c>strict-match</c>.</summary>
public sealed class ResponseFilter(string name, IReadOnlyList<FilterStep> steps)
{
    public string Name { get; } = name;

    public IReadOnlyList<FilterStep> Steps { get; } = steps;

    /// <summary>lm-eval's default when a task names no filters: the raw response.</summary>
    public static ResponseFilter None { get; } = new("none", [new TakeFirstStep()]);

    public FilterOutcome Apply(string response)
    {
        bool fellBack = false;
        var value = response;
        foreach (var step in Steps) value = step.Apply(value, ref fellBack);
        return new FilterOutcome(value, fellBack);
    }
}

/// <summary>The value a filter extracted and whether a regex step fell back (an "invalid" extraction).</summary>
public readonly record struct FilterOutcome(string Value, bool Invalid);
