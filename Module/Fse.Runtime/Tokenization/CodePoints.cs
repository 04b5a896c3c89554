namespace Fse.Runtime.Tokenization;

/// <summary>Code point access to UTF-16 strings (a lone surrogate counts as itself, one unit wide).</summary>
internal static class CodePoints
{
    public static int At(string s, int index, out int width)
    {
        if (char.IsSurrogatePair(s, index))
        {
            width = 2;
            return char.ConvertToUtf32(s[index], s[index + 1]);
        }
        width = 1;
        return s[index];
    }

    public static int Before(string s, int end, out int width)
    {
        if (end >= 2 && char.IsSurrogatePair(s[end - 2], s[end - 1]))
        {
            width = 2;
            return char.ConvertToUtf32(s[end - 2], s[end - 1]);
        }
        width = 1;
        return s[end - 1];
    }

    /// <summary>The text with each lone surrogate replaced by U+FFFD, as its UTF-8 encoding would have it.</summary>
    public static string ReplaceLoneSurrogates(string s)
    {
        var i = s.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0) return s;
        var chars = s.ToCharArray();
        for (; i < chars.Length; i++)
        {
            if (!char.IsSurrogate(chars[i])) continue;
            if (char.IsHighSurrogate(chars[i]) && i + 1 < chars.Length && char.IsLowSurrogate(chars[i + 1])) { i++; continue; }
            chars[i] = '\uFFFD';
        }
        return new string(chars);
    }
}
