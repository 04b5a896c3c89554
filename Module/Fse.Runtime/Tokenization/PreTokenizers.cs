namespace Fse.Runtime.Tokenization;

/// <summary>How HF's Split pre-tokenizer treats the pieces the pattern matches.</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>A tokenizer.json pre-tokenizer: cuts normalized text into pieces that BPE encodes separately.</summary>
internal abstract class PreTokenizer
{
    /// <summary>Replaces <paramref name="pieces"/> by their sub-pieces. Empty pieces are dropped, as HF does.</summary>
    public abstract void Split(List<string> pieces);

    protected static void SplitEach(List<string> pieces, Action<string, List<string>> split)
    {
        var output = new List<string>(pieces.Count * 2);
        foreach (var piece in pieces) split(piece, output);
        output.RemoveAll(static s => s.Length == 0);
        pieces.Clear();
        pieces.AddRange(output);
    }
}

/// <summary>HF's "Sequence" pre-tokenizer.</summary>
internal sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> steps) : PreTokenizer
{
    public override void Split(List<string> pieces)
    {
        foreach (var s in steps) s.Split(pieces);
    }
}

/// <summary>HF's "Split" pre-tokenizer: a regex (Oniguruma) or a literal string, a behavior and invert.</summary>
internal sealed class SplitPreTokenizer : PreTokenizer
{
    private readonly OnigPattern? _regex;
    private readonly string? _literal;
    private readonly SplitBehavior _behavior;
    private readonly bool _invert;

    public SplitPreTokenizer(OnigPattern? regex, string? literal, SplitBehavior behavior, bool invert)
    {
        _regex = regex;
        _literal = literal;
        _behavior = behavior;
        _invert = invert;
    }

    public override void Split(List<string> pieces) => SplitEach(pieces, SplitOne);

    private void SplitOne(string text, List<string> output)
    {
        foreach (var (start, length) in Segments(text)) output.Add(text.Substring(start, length));
    }

    /// <summary>The (start, length) of each piece of <paramref name="text"/>, empty ones included.</summary>
    internal List<(int Start, int Length)> Segments(string text)
    {
        var matches = FindMatches(text);
        if (_invert) for (var i = 0; i < matches.Count; i++) matches[i] = (matches[i].Start, matches[i].End, !matches[i].IsMatch);
        var result = new List<(int, int)>(matches.Count);
        switch (_behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var m in matches) result.Add((m.Start, m.End - m.Start));
                break;
            case SplitBehavior.Removed:
                foreach (var m in matches) if (!m.IsMatch) result.Add((m.Start, m.End - m.Start));
                break;
            case SplitBehavior.Contiguous:
                {
                    var previous = false;
                    var acc = new List<(int Start, int End)>();
                    foreach (var m in matches)
                    {
                        if (m.IsMatch == previous && acc.Count > 0) acc[^1] = (acc[^1].Start, m.End);
                        else acc.Add((m.Start, m.End));
                        previous = m.IsMatch;
                    }
                    foreach (var a in acc) result.Add((a.Start, a.End - a.Start));
                    break;
                }
            case SplitBehavior.MergedWithPrevious:
                {
                    var previous = false;
                    var acc = new List<(int Start, int End)>();
                    foreach (var m in matches)
                    {
                        if (m.IsMatch && !previous && acc.Count > 0) acc[^1] = (acc[^1].Start, m.End);
                        else acc.Add((m.Start, m.End));
                        previous = m.IsMatch;
                    }
                    foreach (var a in acc) result.Add((a.Start, a.End - a.Start));
                    break;
                }
            case SplitBehavior.MergedWithNext:
                {
                    var previous = false;
                    var acc = new List<(int Start, int End)>();
                    for (var k = matches.Count - 1; k >= 0; k--)
                    {
                        var m = matches[k];
                        if (m.IsMatch && !previous && acc.Count > 0) acc[^1] = (m.Start, acc[^1].End);
                        else acc.Add((m.Start, m.End));
                        previous = m.IsMatch;
                    }
                    acc.Reverse();
                    foreach (var a in acc) result.Add((a.Start, a.End - a.Start));
                    break;
                }
        }
        return result;
    }

    // HF's Pattern::find_matches: the matches and the gaps between them, covering the whole text in order.
    private List<(int Start, int End, bool IsMatch)> FindMatches(string text)
    {
        var splits = new List<(int, int, bool)>();
        if (text.Length == 0)
        {
            splits.Add((0, 0, false));
            return splits;
        }
        var prev = 0;
        foreach (var (start, length) in RawMatches(text))
        {
            if (prev != start) splits.Add((prev, start, false));
            splits.Add((start, start + length, true));
            prev = start + length;
        }
        if (prev != text.Length) splits.Add((prev, text.Length, false));
        return splits;
    }

    private List<(int Start, int Length)> RawMatches(string text)
    {
        if (_regex is not null) return _regex.Matches(text);
        var result = new List<(int, int)>();
        if (string.IsNullOrEmpty(_literal)) return result;
        var pos = 0;
        while (pos <= text.Length - _literal.Length)
        {
            var found = text.IndexOf(_literal, pos, StringComparison.Ordinal);
            if (found < 0) break;
            result.Add((found, _literal.Length));
            pos = found + _literal.Length;
        }
        return result;
    }
}

/// <summary>
/// HF's "ByteLevel" pre-tokenizer: optionally a space before each piece that does not start with one, optionally
/// GPT-2's split regex, then each piece's UTF-8 bytes as the byte-level alphabet.
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    internal const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
    private static readonly Lazy<SplitPreTokenizer> Gpt2Split = new(() => new SplitPreTokenizer(new OnigPattern(Gpt2Pattern), null, SplitBehavior.Isolated, false));

    public override void Split(List<string> pieces)
    {
        SplitEach(pieces, (piece, output) =>
        {
            if (addPrefixSpace && !piece.StartsWith(' ')) piece = " " + piece;
            if (!useRegex)
            {
                output.Add(piece);
                return;
            }
            foreach (var (start, length) in Gpt2Split.Value.Segments(piece)) output.Add(piece.Substring(start, length));
        });
        for (var i = 0; i < pieces.Count; i++) pieces[i] = ToByteLevel(pieces[i]);
    }

    internal static string ToByteLevel(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        return ByteLevelAlphabet.Encode(bytes);
    }
}
