namespace Fse.Eval.Scoring;

/// <summary>The few Python string operations lm-eval's scoring uses, with Python's definitions rather than .NET's.</summary>
public static class PythonText
{
    /// <summary><c>str.strip()</c>: Python's whitespace set, which (unlike .NET's) includes U+001C–U+001F.</summary>
    public static string Strip(string s)
    {
        int start = 0, end = s.Length;
        while (start < end && IsSpace(s[start])) start++;
        while (end > start && IsSpace(s[end - 1])) end--;
        return s[start..end];
    }

    /// <summary><c>str.isspace()</c> for one UTF-16 unit (every Python whitespace character is in the BMP).</summary>
    public static bool IsSpace(char c) => c switch
    {
        >= '\t' and <= '\r' => true,
        >= '\u001c' and <= '\u0020' => true,
        '\u0085' or '\u00a0' or '\u1680' => true,
        >= '\u2000' and <= '\u200a' => true,
        '\u2028' or '\u2029' or '\u202f' or '\u205f' or '\u3000' => true,
        _ => false,
    };

    /// <summary><c>str.lower()</c>: simple case mapping plus Python's one special case that lengthens the text (U+0130).</summary>
    public static string Lower(string s) => s.ToLowerInvariant().Replace("\u0130", "i\u0307", StringComparison.Ordinal);

    /// <summary><c>str.upper()</c> with simple case mapping (Python also expands a few letters, e.g. ß → SS; that is not reproduced).</summary>
    public static string Upper(string s) => s.ToUpperInvariant();

    /// <summary><c>string.punctuation</c>.</summary>
    public const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    /// <summary>Removes every character of <paramref name="set"/> (Python's <c>str.translate</c> with a deletion table).</summary>
    public static string Remove(string s, string set)
    {
        if (s.AsSpan().IndexOfAny(set) < 0) return s;
        var chars = new char[s.Length];
        int n = 0;
        foreach (var c in s) if (!set.Contains(c)) chars[n++] = c;
        return new string(chars, 0, n);
    }
}
