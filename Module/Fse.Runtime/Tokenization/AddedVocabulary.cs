using System.Buffers;
using System.Globalization;

namespace Fse.Runtime.Tokenization;

/// <summary>One entry of tokenizer.json's added_tokens, with the id HF gives it.</summary>
public sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord = false, bool LStrip = false, bool RStrip = false, bool Normalized = false);

/// <summary>
/// Finds added tokens in text the way HF's AddedVocabulary does: leftmost-longest matches (Aho-Corasick,
/// MatchKind::LeftmostLongest), tokens that are not normalized are matched on the raw text, normalized ones on
/// the normalized text; single_word, lstrip and rstrip are applied to each match in turn.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Node _root = new();
    private readonly SearchValues<char>? _firstChars;

    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        var first = new HashSet<char>();
        foreach (var (pattern, token) in tokens)
        {
            if (pattern.Length == 0) continue;
            var node = _root;
            foreach (var c in pattern)
            {
                node.Next ??= [];
                if (!node.Next.TryGetValue(c, out var child)) node.Next[c] = child = new Node();
                node = child;
            }
            node.Token ??= token;
            first.Add(pattern[0]);
        }
        if (first.Count > 0) _firstChars = SearchValues.Create([.. first]);
    }

    public bool IsEmpty => _firstChars is null;

    /// <summary>Splits text into pieces: (text, null) for plain text, (content, token) for a matched added token.</summary>
    public void Split(string sentence, List<(string Text, AddedToken? Token)> output)
    {
        if (_firstChars is null || sentence.Length == 0)
        {
            output.Add((sentence, null));
            return;
        }
        var startOffset = 0;
        var searchFrom = 0;
        while (searchFrom < sentence.Length)
        {
            var (mStart, mEnd, token) = NextMatch(sentence, searchFrom);
            if (token is null) break;
            searchFrom = mEnd;
            var start = mStart;
            var stop = mEnd;
            if (token.SingleWord)
            {
                var startSpace = start == 0 || !EndsWithWord(sentence, start);
                var stopSpace = stop == sentence.Length || !StartsWithWord(sentence, stop);
                if (!startSpace || !stopSpace) continue;
            }
            if (token.LStrip)
            {
                var newStart = start;
                while (newStart > 0 && IsWhiteSpaceAt(sentence, newStart, backwards: true, out var w)) newStart -= w;
                start = Math.Max(newStart, startOffset);
            }
            if (token.RStrip)
            {
                while (stop < sentence.Length && IsWhiteSpaceAt(sentence, stop, backwards: false, out var w)) stop += w;
            }
            if (startOffset < start) output.Add((sentence[startOffset..start], null));
            output.Add((sentence[start..stop], token));
            startOffset = stop;
        }
        if (startOffset != sentence.Length) output.Add((sentence[startOffset..], null));
    }

    private (int Start, int End, AddedToken? Token) NextMatch(string s, int from)
    {
        var i = from;
        while (i < s.Length)
        {
            var k = s.AsSpan(i).IndexOfAny(_firstChars!);
            if (k < 0) break;
            i += k;
            var node = _root;
            AddedToken? best = null;
            var bestEnd = -1;
            for (var j = i; j < s.Length && node.Next is not null && node.Next.TryGetValue(s[j], out var child); j++)
            {
                node = child;
                if (node.Token is not null) { best = node.Token; bestEnd = j + 1; }
            }
            if (best is not null) return (i, bestEnd, best);
            i++;
        }
        return (-1, -1, null);
    }

    // regex crate's Unicode \s (the White_Space property).
    internal static bool IsWhiteSpaceProperty(int cp) => cp is >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680
        or >= 0x2000 and <= 0x200A or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    // regex crate's Unicode \w: Alphabetic, marks, decimal digits, connector punctuation, join controls.
    internal static bool IsWordChar(int cp)
    {
        if (cp is 0x200C or 0x200D) return true;
        if (cp is >= 0x24B6 and <= 0x24E9 or >= 0x1F130 and <= 0x1F149 or >= 0x1F150 and <= 0x1F169 or >= 0x1F170 and <= 0x1F189) return true;
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.DecimalDigitNumber
                or UnicodeCategory.LetterNumber or UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }

    private static bool EndsWithWord(string s, int end) => IsWordChar(CodePoints.Before(s, end, out _));

    private static bool StartsWithWord(string s, int start) => IsWordChar(CodePoints.At(s, start, out _));

    private static bool IsWhiteSpaceAt(string s, int at, bool backwards, out int width)
    {
        var cp = backwards ? CodePoints.Before(s, at, out width) : CodePoints.At(s, at, out width);
        return IsWhiteSpaceProperty(cp);
    }

    private sealed class Node
    {
        public Dictionary<char, Node>? Next;
        public AddedToken? Token;
    }
}

