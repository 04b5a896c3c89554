using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Fse.Runtime.Tokenization;

/// <summary>
/// A pre-tokenizer regex written for Oniguruma (what HF tokenizers compiles them with), run by .NET's Regex so
/// that it finds exactly the matches Oniguruma finds.
/// <para>Two differences are bridged. (1) Oniguruma matches code points; .NET matches UTF-16 units, so
/// <c>\p{L}</c> never matches a letter outside the BMP (𝑥, 𐐷, 𠀋 are two surrogates each). Text holding such
/// characters is matched through a stand-in string with one UTF-16 unit per code point: every astral code point
/// is replaced by a BMP character of the same general category, and match positions are mapped back.
/// (2) Syntax: possessive quantifiers (<c>*+ ++ ?+</c>) become atomic groups, <c>\x{HHHH}</c> becomes
/// <c>\uHHHH</c>, <c>\h</c> (hex digit in Oniguruma) becomes <c>[0-9a-fA-F]</c>, <c>\p{^X}</c> becomes
/// <c>\P{X}</c>, <c>{,n}</c> becomes <c>{0,n}</c>. (3) Case-insensitive groups such as <c>(?i:'s|'t)</c>:
/// Oniguruma folds case with Unicode case folding (so <c>'s</c> also matches <c>'ſ</c>, and <c>k</c> matches the
/// Kelvin sign), .NET with its own table (which leaves out ſ); letters in such groups become explicit classes
/// (<c>[sSſ]</c>) and .NET's <c>(?i)</c> is not used. Constructs whose meaning differs and that no known tokenizer
/// uses are refused rather than guessed: <c>^</c> and <c>$</c> (line anchors in Oniguruma), inline options other
/// than <c>i</c>, nested or intersected character classes, astral literals, <c>{n,m}+</c>.</para>
/// <para>Iteration follows the onig crate: an empty match right where the previous match ended is skipped.</para>
/// </summary>
public sealed class OnigPattern
{
    private readonly Regex _regex;

    public OnigPattern(string pattern)
    {
        Pattern = pattern;
        DotNetPattern = Translate(pattern);
        _regex = new Regex(DotNetPattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    /// <summary>The pattern as written in tokenizer.json.</summary>
    public string Pattern { get; }

    /// <summary>The equivalent .NET pattern, run over text with one UTF-16 unit per code point.</summary>
    public string DotNetPattern { get; }

    /// <summary>The matches of the pattern in <paramref name="text"/>, as (start, length) in UTF-16 units of the text.</summary>
    public List<(int Start, int Length)> Matches(string text)
    {
        var result = new List<(int, int)>();
        if (text.Length == 0) return result;
        int[]? offsets = null;
        var subject = text;
        if (NeedsStandIns(text)) (subject, offsets) = StandIn(text);
        var pos = 0;
        var lastEnd = -1;
        while (pos <= subject.Length)
        {
            var m = _regex.Match(subject, pos);
            if (!m.Success) break;
            var start = m.Index;
            var end = m.Index + m.Length;
            if (start == end && end == lastEnd)
            {
                pos = start + 1;
                continue;
            }
            lastEnd = end;
            pos = start == end ? end + 1 : end;
            if (offsets is null) result.Add((start, end - start));
            else result.Add((offsets[start], offsets[end] - offsets[start]));
            if (start == end && end == subject.Length) break;
        }
        return result;
    }

    private static bool NeedsStandIns(string text) => text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') >= 0;

    // Each code point becomes one char; offsets[i] is the UTF-16 offset in the original text of the stand-in at i.
    private static (string, int[]) StandIn(string text)
    {
        var sb = new StringBuilder(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length; i++)
        {
            offsets.Add(i);
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                var cp = char.ConvertToUtf32(c, text[i + 1]);
                sb.Append(Representative(CharUnicodeInfo.GetUnicodeCategory(cp)));
                i++;
            }
            else if (char.IsSurrogate(c)) sb.Append('\uFFFD');
            else sb.Append(c);
        }
        offsets.Add(text.Length);
        return (sb.ToString(), offsets.ToArray());
    }

    /// <summary>
    /// A BMP stand-in of the given category. They come from blocks no tokenizer pattern names (Vai, Bamum,
    /// Glagolitic, Yi, supplemental punctuation) so a literal or a range in a pattern cannot single them out.
    /// </summary>
    internal static char Representative(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u2C00',          // GLAGOLITIC CAPITAL LETTER AZU
        UnicodeCategory.LowercaseLetter => '\u2C30',          // GLAGOLITIC SMALL LETTER AZU
        UnicodeCategory.TitlecaseLetter => '\u1F88',          // GREEK CAPITAL ALPHA WITH PSILI AND PROSGEGRAMMENI
        UnicodeCategory.ModifierLetter => '\uA67F',           // CYRILLIC PAYEROK
        UnicodeCategory.OtherLetter => '\uA500',              // VAI SYLLABLE EE
        UnicodeCategory.NonSpacingMark => '\uA66F',           // COMBINING CYRILLIC VZMET
        UnicodeCategory.SpacingCombiningMark => '\uA823',     // SYLOTI NAGRI VOWEL SIGN A
        UnicodeCategory.EnclosingMark => '\uA670',            // COMBINING CYRILLIC TEN MILLIONS SIGN
        UnicodeCategory.DecimalDigitNumber => '\uA620',       // VAI DIGIT ZERO
        UnicodeCategory.LetterNumber => '\uA6E6',             // BAMUM LETTER MO
        UnicodeCategory.OtherNumber => '\uA830',              // NORTH INDIC FRACTION ONE QUARTER
        UnicodeCategory.ConnectorPunctuation => '\uFE4D',     // DASHED LOW LINE
        UnicodeCategory.DashPunctuation => '\u2E3A',          // TWO-EM DASH
        UnicodeCategory.OpenPunctuation => '\u2E22',          // TOP LEFT HALF BRACKET
        UnicodeCategory.ClosePunctuation => '\u2E23',         // TOP RIGHT HALF BRACKET
        UnicodeCategory.InitialQuotePunctuation => '\u2E02',  // LEFT SUBSTITUTION BRACKET
        UnicodeCategory.FinalQuotePunctuation => '\u2E03',    // RIGHT SUBSTITUTION BRACKET
        UnicodeCategory.OtherPunctuation => '\uA60D',         // VAI COMMA
        UnicodeCategory.MathSymbol => '\u2A00',               // N-ARY CIRCLED DOT OPERATOR
        UnicodeCategory.CurrencySymbol => '\u20B0',           // GERMAN PENNY SIGN
        UnicodeCategory.ModifierSymbol => '\uA700',           // MODIFIER LETTER CHINESE TONE YIN PING
        UnicodeCategory.OtherSymbol => '\uA490',              // YI RADICAL QOT
        UnicodeCategory.SpaceSeparator => '\u2007',           // FIGURE SPACE (no astral space exists)
        UnicodeCategory.LineSeparator => '\u2028',
        UnicodeCategory.ParagraphSeparator => '\u2029',
        UnicodeCategory.Control => '\u0091',
        UnicodeCategory.Format => '\u2061',                   // FUNCTION APPLICATION
        UnicodeCategory.PrivateUse => '\uE000',
        UnicodeCategory.Surrogate => '\uFFFD',
        _ => '\uFFFF',                                        // unassigned (a noncharacter, also Cn)
    };

    private static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var groups = new Stack<(int Start, bool IgnoreCase)>();
        var ignoreCase = false;
        var previousLetter = '\0';
        var atom = -1;
        var i = 0;
        while (i < pattern.Length)
        {
            var c = pattern[i];
            if (!char.IsAsciiLetter(c) || c == '{' || c == '}') previousLetter = '\0';
            switch (c)
            {
                case '\\':
                    atom = sb.Length;
                    if (ignoreCase && IsCasedCategory(pattern.AsSpan(i)))
                        throw Unsupported(pattern, i, "a cased letter category inside a case-insensitive group");
                    i = TranslateEscape(pattern, i, sb, inClass: false);
                    continue;
                case '[':
                    atom = sb.Length;
                    var classEnd = TranslateClass(pattern, i, sb);
                    if (ignoreCase && pattern.AsSpan(i, classEnd - i).IndexOfAny(AsciiLetters) >= 0 && !IsOnlyPropertyEscapes(pattern.AsSpan(i, classEnd - i)))
                        throw Unsupported(pattern, i, "a character class with letters inside a case-insensitive group");
                    i = classEnd;
                    continue;
                case '(':
                    {
                        groups.Push((sb.Length, ignoreCase));
                        var (next, option) = TranslateGroupOpening(pattern, i, sb);
                        if (option is { } on) ignoreCase = on;
                        // "(?i)" or "(?-i)" opens no group: the option holds until the enclosing group closes.
                        if (pattern[next - 1] == ')') groups.Pop();
                        i = next;
                        atom = -1;
                        continue;
                    }
                case ')':
                    if (groups.Count == 0) throw Unsupported(pattern, i, "an unbalanced ')'");
                    (atom, ignoreCase) = groups.Pop();
                    sb.Append(')');
                    i++;
                    continue;
                case '|':
                    atom = -1;
                    sb.Append('|');
                    i++;
                    continue;
                case '^':
                case '$':
                    throw Unsupported(pattern, i, $"the anchor '{c}' (a line anchor in Oniguruma, a string anchor in .NET)");
                case '*':
                case '+':
                case '?':
                case '{':
                    if (c == '{' && !IsInterval(pattern, i)) goto default;
                    if (atom < 0) throw Unsupported(pattern, i, $"a quantifier '{c}' with nothing to repeat");
                    i = TranslateQuantifier(pattern, i, sb, atom);
                    continue;
                default:
                    if (char.IsSurrogate(c)) throw Unsupported(pattern, i, "a literal character outside the BMP");
                    atom = sb.Length;
                    if (ignoreCase && char.IsLetter(c))
                    {
                        if (!char.IsAsciiLetter(c)) throw Unsupported(pattern, i, "a non-ASCII letter inside a case-insensitive group");
                        var pair = string.Concat(char.ToLowerInvariant(previousLetter), char.ToLowerInvariant(c));
                        if (pair is "ss" or "ff" or "fi" or "fl" or "st")
                            throw Unsupported(pattern, i, $"'{pair}' inside a case-insensitive group (Oniguruma also matches a ligature or ß there)");
                        sb.Append(CaseFoldClass(c));
                        previousLetter = c;
                        i++;
                        continue;
                    }
                    if (c == '{' || c == '}') sb.Append('\\');
                    sb.Append(c);
                    i++;
                    continue;
            }
        }
        if (groups.Count != 0) throw Unsupported(pattern, pattern.Length, "an unclosed '('");
        return sb.ToString();
    }

    private static bool IsInterval(string p, int i)
    {
        var j = i + 1;
        var digits = 0;
        while (j < p.Length && char.IsAsciiDigit(p[j])) { j++; digits++; }
        if (j < p.Length && p[j] == ',')
        {
            j++;
            while (j < p.Length && char.IsAsciiDigit(p[j])) { j++; digits++; }
        }
        return digits > 0 && j < p.Length && p[j] == '}';
    }

    private static int TranslateQuantifier(string p, int i, StringBuilder sb, int atom)
    {
        int end;
        string quantifier;
        if (p[i] == '{')
        {
            end = p.IndexOf('}', i) + 1;
            quantifier = p[i..end];
            if (quantifier.StartsWith("{,", StringComparison.Ordinal)) quantifier = "{0" + quantifier[1..];
        }
        else
        {
            end = i + 1;
            quantifier = p[i].ToString();
        }
        if (end < p.Length && p[end] == '?')
        {
            sb.Append(quantifier).Append('?');
            return end + 1;
        }
        if (end < p.Length && p[end] == '+')
        {
            if (p[i] == '{') throw Unsupported(p, end, "an interval followed by '+' (possessive in some Oniguruma syntaxes, a repeat in others)");
            sb.Insert(atom, "(?>");
            sb.Append(quantifier).Append(')');
            return end + 1;
        }
        sb.Append(quantifier);
        return end;
    }

    private static readonly System.Buffers.SearchValues<char> AsciiLetters = System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

    private static bool IsCasedCategory(ReadOnlySpan<char> escape) =>
        escape.StartsWith(@"\p{Lu}") || escape.StartsWith(@"\p{Ll}") || escape.StartsWith(@"\p{Lt}") ||
        escape.StartsWith(@"\P{Lu}") || escape.StartsWith(@"\P{Ll}") || escape.StartsWith(@"\P{Lt}");

    private static bool IsOnlyPropertyEscapes(ReadOnlySpan<char> cls)
    {
        // Letters inside \p{...} names and escapes such as \s, \r, \n do not fold; literal letters do.
        for (var k = 1; k < cls.Length - 1; k++)
        {
            if (cls[k] == '\\')
            {
                if (k + 1 < cls.Length && cls[k + 1] is 'p' or 'P')
                {
                    var close = cls[k..].IndexOf('}');
                    if (close < 0) return false;
                    var name = cls.Slice(k + 3, close - 3);
                    if (name is "Lu" or "Ll" or "Lt" or "^Lu" or "^Ll" or "^Lt") return false;
                    k += close;
                }
                else k++;
                continue;
            }
            if (char.IsAsciiLetter(cls[k])) return false;
        }
        return true;
    }

    // The characters Oniguruma's case folding makes equal to an ASCII letter (measured with HF tokenizers 0.23
    // over every code point: only s/ſ and k/K (Kelvin) have a third member).
    private static string CaseFoldClass(char c)
    {
        var lower = char.ToLowerInvariant(c);
        var upper = char.ToUpperInvariant(c);
        return lower switch
        {
            's' => "[sS\u017F]",
            'k' => "[kK\u212A]",
            _ => $"[{lower}{upper}]",
        };
    }

    // Returns the index after the opening and, for an inline option group, whether it turns case folding on or off.
    private static (int Next, bool? IgnoreCase) TranslateGroupOpening(string p, int i, StringBuilder sb)
    {
        if (i + 1 >= p.Length || p[i + 1] != '?')
        {
            sb.Append('(');
            return (i + 1, null);
        }
        var rest = p.AsSpan(i + 2);
        foreach (var known in (ReadOnlySpan<string>)[":", "=", "!", "<=", "<!", ">"])
        {
            if (rest.StartsWith(known, StringComparison.Ordinal))
            {
                sb.Append("(?").Append(known);
                return (i + 2 + known.Length, null);
            }
        }
        if (rest.Length > 1 && rest[0] == '<' && char.IsLetter(rest[1]))
        {
            sb.Append("(?<");
            return (i + 3, null);
        }
        // Inline options: only i (case-insensitive), applied here by explicit classes.
        if (rest.StartsWith("i:", StringComparison.Ordinal)) { sb.Append("(?:"); return (i + 4, true); }
        if (rest.StartsWith("-i:", StringComparison.Ordinal)) { sb.Append("(?:"); return (i + 5, false); }
        if (rest.StartsWith("i)", StringComparison.Ordinal)) return (i + 4, true);
        if (rest.StartsWith("-i)", StringComparison.Ordinal)) return (i + 5, false);
        throw Unsupported(p, i, "a group construct other than (?: (?= (?! (?<= (?<! (?> (?<name> or the inline option i");
    }

    private static int TranslateClass(string p, int i, StringBuilder sb)
    {
        sb.Append('[');
        var j = i + 1;
        if (j < p.Length && p[j] == '^') { sb.Append('^'); j++; }
        if (j < p.Length && p[j] == ']') { sb.Append("\\]"); j++; }
        while (j < p.Length && p[j] != ']')
        {
            var c = p[j];
            if (c == '\\') { j = TranslateEscape(p, j, sb, inClass: true); continue; }
            if (c == '[') throw Unsupported(p, j, "a nested character class or a POSIX bracket");
            if (c == '&' && j + 1 < p.Length && p[j + 1] == '&') throw Unsupported(p, j, "a character class intersection (&&)");
            if (char.IsSurrogate(c)) throw Unsupported(p, j, "a literal character outside the BMP");
            if (c == '-' && j + 1 < p.Length && p[j + 1] == '[') throw Unsupported(p, j, "a .NET class subtraction");
            sb.Append(c);
            j++;
        }
        if (j >= p.Length) throw Unsupported(p, i, "an unclosed '['");
        sb.Append(']');
        return j + 1;
    }

    private static int TranslateEscape(string p, int i, StringBuilder sb, bool inClass)
    {
        if (i + 1 >= p.Length) throw Unsupported(p, i, "a trailing backslash");
        var e = p[i + 1];
        switch (e)
        {
            case 'x' when i + 2 < p.Length && p[i + 2] == '{':
                {
                    var close = p.IndexOf('}', i + 3);
                    if (close < 0) throw Unsupported(p, i, "an unclosed \\x{");
                    var cp = int.Parse(p.AsSpan(i + 3, close - i - 3), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    if (cp > 0xFFFF) throw Unsupported(p, i, "a code point outside the BMP");
                    sb.Append("\\u").Append(cp.ToString("X4", CultureInfo.InvariantCulture));
                    return close + 1;
                }
            case 'h':
                sb.Append(inClass ? "0-9a-fA-F" : "[0-9a-fA-F]");
                return i + 2;
            case 'H':
                if (inClass) throw Unsupported(p, i, "\\H inside a character class");
                sb.Append("[^0-9a-fA-F]");
                return i + 2;
            case 'p' or 'P' when i + 2 < p.Length && p[i + 2] == '{':
                {
                    var close = p.IndexOf('}', i + 3);
                    if (close < 0) throw Unsupported(p, i, "an unclosed \\p{");
                    var name = p[(i + 3)..close];
                    var negate = e == 'P';
                    if (name.StartsWith('^')) { negate = !negate; name = name[1..]; }
                    sb.Append(negate ? "\\P{" : "\\p{").Append(name).Append('}');
                    return close + 1;
                }
            case 'R' or 'X' or 'K' or 'G' or 'y' or 'Y' or 'O' or 'N' or 'k' or 'g':
                throw Unsupported(p, i, $"the escape \\{e}");
            default:
                sb.Append('\\').Append(e);
                return i + 2;
        }
    }

    private static ArgumentException Unsupported(string pattern, int at, string what) =>
        new($"The Oniguruma pattern uses {what} at offset {at}, which this tokenizer does not support: {pattern}");
}
