using System.Text;
using System.Text.RegularExpressions;

namespace Fse.Eval.Scoring;

/// <summary>
/// Compiles a Python <c>re</c> pattern (as lm-eval task files write them) into a .NET <see cref="Regex"/> with the same
/// meaning for the constructs tasks use: <c>(?P&lt;name&gt;…)</c> becomes a numbered group so groups keep Python's
/// left-to-right numbering (which <c>findall</c> tuples depend on), <c>(?P=name)</c> a numbered back-reference, and
/// <c>\Z</c> (end of string in Python) becomes <c>\z</c>. Python-only flags (<c>(?a)</c>, <c>(?L)</c>) are refused.
/// </summary>
public static class PythonRegex
{
    /// <summary>A bound on one match, so a pathological user pattern fails instead of hanging a run.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(2);

    public static Regex Compile(string pattern)
    {
        try
        {
            return new Regex(Translate(pattern), RegexOptions.CultureInvariant, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"The regular expression \"{pattern}\" is not valid: {e.Message}", e);
        }
    }

    internal static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length);
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        int groups = 0;
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char next = pattern[i + 1];
                sb.Append(!inClass && next == 'Z' ? @"\z" : pattern.AsSpan(i, 2));
                i++;
                continue;
            }
            if (inClass)
            {
                if (c == ']') inClass = false;
                sb.Append(c);
                continue;
            }
            if (c == '[')
            {
                inClass = true;
                sb.Append(c);
                // A ']' right after '[' or '[^' is a literal in Python (and .NET).
                if (i + 1 < pattern.Length && pattern[i + 1] == '^') { sb.Append('^'); i++; }
                if (i + 1 < pattern.Length && pattern[i + 1] == ']') { sb.Append(']'); i++; }
                continue;
            }
            if (c == '(')
            {
                var rest = pattern.AsSpan(i);
                if (rest.StartsWith("(?P<"))
                {
                    int close = pattern.IndexOf('>', i + 4);
                    if (close < 0) throw new FormatException($"The regular expression \"{pattern}\" has an unterminated group name.");
                    names[pattern[(i + 4)..close]] = ++groups;
                    sb.Append('(');
                    i = close;
                    continue;
                }
                if (rest.StartsWith("(?P="))
                {
                    int close = pattern.IndexOf(')', i + 4);
                    var name = close < 0 ? "" : pattern[(i + 4)..close];
                    if (!names.TryGetValue(name, out var number))
                        throw new FormatException($"The regular expression \"{pattern}\" refers to an unknown group '{name}'.");
                    sb.Append(@"(?:\k<").Append(number).Append(">)");
                    i = close;
                    continue;
                }
                if (rest.Length > 2 && rest[1] == '?' && (rest[2] == 'a' || rest[2] == 'L'))
                    throw new FormatException($"The regular expression \"{pattern}\" uses a Python-only flag ((?a) or (?L)), which has no .NET equivalent.");
                if (rest.Length < 2 || rest[1] != '?') groups++;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Python's <c>re.findall</c>: with no group each match's text; with one group that group's text ("" when it did
    /// not take part); with several, a tuple of every group's text.
    /// </summary>
    public static IReadOnlyList<string[]> FindAll(Regex regex, string text)
    {
        int groupCount = regex.GetGroupNumbers().Length - 1;
        var all = new List<string[]>();
        for (var m = regex.Match(text); m.Success; m = m.NextMatch())
        {
            if (groupCount == 0) { all.Add([m.Value]); continue; }
            var tuple = new string[groupCount];
            for (int g = 1; g <= groupCount; g++) tuple[g - 1] = m.Groups[g].Success ? m.Groups[g].Value : "";
            all.Add(tuple);
        }
        return all;
    }
}
