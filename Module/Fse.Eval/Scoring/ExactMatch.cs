using System.Text.RegularExpressions;

namespace Fse.Eval.Scoring;

/// <summary>
/// lm-eval's <c>exact_match</c> (ported from HF evaluate): each of <c>regexes_to_ignore</c> in order is removed
/// (<c>re.sub(pattern, "", x)</c>) from prediction and reference, then optional lower-casing, removal of ASCII
/// punctuation and of digits, then string equality. It does not strip whitespace: the regex filter already strips the
/// prediction, and references are used as they are.
/// </summary>
public sealed class ExactMatch
{
    private readonly Regex[] _ignore;

    public ExactMatch(IReadOnlyList<string>? regexesToIgnore = null, bool ignoreCase = false, bool ignorePunctuation = false, bool ignoreNumbers = false)
    {
        RegexesToIgnore = regexesToIgnore ?? [];
        _ignore = [.. RegexesToIgnore.Select(PythonRegex.Compile)];
        IgnoreCase = ignoreCase;
        IgnorePunctuation = ignorePunctuation;
        IgnoreNumbers = ignoreNumbers;
    }

    public IReadOnlyList<string> RegexesToIgnore { get; }
    public bool IgnoreCase { get; }
    public bool IgnorePunctuation { get; }
    public bool IgnoreNumbers { get; }

    public bool IsMatch(string prediction, string reference) =>
        string.Equals(Normalise(prediction), Normalise(reference), StringComparison.Ordinal);

    /// <summary>The text that is compared, after every normalisation.</summary>
    public string Normalise(string s)
    {
        foreach (var r in _ignore) s = r.Replace(s, "");
        if (IgnoreCase) s = PythonText.Lower(s);
        if (IgnorePunctuation) s = PythonText.Remove(s, PythonText.AsciiPunctuation);
        if (IgnoreNumbers) s = PythonText.Remove(s, "0123456789");
        return s;
    }
}
