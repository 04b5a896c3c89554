using Fse.Runtime.Tokenization;

namespace Fse.Runtime.Tests.Tokenization;

public class OnigPatternTests
{
    private static List<string> Pieces(OnigPattern p, string text) => [.. p.Matches(text).Select(m => text.Substring(m.Start, m.Length))];

    [Fact]
    public void QwenPatternMatchesAstralLettersAsLetters()
    {
        var p = new OnigPattern(BpeTrainer.QwenPattern);
        Assert.Equal(["𝑥𝑦", " ", "1", "'𐐷s", " 😀", "a", " 𠀋中"], Pieces(p, "𝑥𝑦 1'𐐷s 😀a 𠀋中"));
        Assert.Equal(["x", "'𝐀"], Pieces(p, "x'𝐀"));
        Assert.Equal(["𝟎", "𝟏"], Pieces(p, "𝟎𝟏"));                            // mathematical digits are \p{N}, one per piece
    }

    [Fact]
    public void CaseInsensitiveContractionsFoldLikeOniguruma()
    {
        var p = new OnigPattern(BpeTrainer.QwenPattern);
        // Oniguruma's Unicode case folding makes ſ (U+017F) equal to s; .NET's (?i) does not, so it is spelled out.
        Assert.Equal(["it", "'ſ", "a"], Pieces(p, "it'ſa"));
        Assert.Equal(["it", "'S", "a"], Pieces(p, "it'Sa"));
        Assert.Equal(["we", "'VE", "x"], Pieces(p, "we'VEx"));
        Assert.Equal(["he", "'Ll", "x"], Pieces(p, "he'Llx"));
        Assert.Equal(["x", "'ᵀa"], Pieces(p, "x'ᵀa"));                          // a modifier letter is not t
        Assert.DoesNotContain("(?i", p.DotNetPattern);
        Assert.Contains("[sS\u017F]", p.DotNetPattern);
    }

    [Fact]
    public void WhitespaceLookaheadKeepsTheLastSpaceForTheNextWord()
    {
        var p = new OnigPattern(BpeTrainer.QwenPattern);
        Assert.Equal(["a", "   ", " b", "\n\n", "c", "  "], Pieces(p, "a    b\n\nc  "));
        Assert.Equal(["x", " \r\n", "y"], Pieces(p, "x \r\ny"));
    }

    [Fact]
    public void PossessiveQuantifiersBecomeAtomicGroups()
    {
        var p = new OnigPattern(@"\d++|a?+b|[xy]*+z");
        Assert.Equal(@"(?>\d+)|(?>a?)b|(?>[xy]*)z", p.DotNetPattern);
        Assert.Equal(["123", "ab", "xyz"], Pieces(p, "123 ab xyz"));
        Assert.Empty(Pieces(new OnigPattern("a*+a"), "aaa"));                  // possessive: never gives back the last a
    }

    [Fact]
    public void OnigurumaSyntaxIsTranslated()
    {
        Assert.Equal(@"\u0041[0-9a-fA-F]\P{L}[\P{N}]a{0,2}", new OnigPattern(@"\x{41}\h\p{^L}[\p{^N}]a{,2}").DotNetPattern);
        Assert.Equal(["A5", "Bf"], Pieces(new OnigPattern(@"[A-Z]\h"), "A5 Bf Gx"));
    }

    [Fact]
    public void EmptyMatchesRightAfterAMatchAreSkippedAsTheOnigCrateDoes()
    {
        // "a*" over "baab": .NET's Matches gives "", "aa", "", ""; the onig crate skips the empty match at 3.
        var p = new OnigPattern("a*");
        Assert.Equal([(0, 0), (1, 2), (4, 0)], p.Matches("baab"));
    }

    [Theory]
    [InlineData("^a", "anchor")]
    [InlineData("a$", "anchor")]
    [InlineData("(?m:a)", "group construct")]
    [InlineData("[[:alpha:]]", "nested")]
    [InlineData("[a&&b]", "intersection")]
    [InlineData("\\x{1F600}", "outside the BMP")]
    [InlineData("😀", "outside the BMP")]
    [InlineData("a{1,2}+", "interval")]
    [InlineData("(?i:é)", "non-ASCII letter")]
    [InlineData("(?i:st)", "ligature")]
    [InlineData("(?i:[a-z])", "class with letters")]
    [InlineData("(?i:\\p{Lu})", "cased letter")]
    [InlineData("\\R", "\\R")]
    [InlineData("(a", "unclosed")]
    public void ConstructsWhoseMeaningDiffersAreRefused(string pattern, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => new OnigPattern(pattern));
        Assert.Contains(why, e.Message);
    }

    [Fact]
    public void InlineCaseOptionLastsUntilTheEnclosingGroupCloses()
    {
        var p = new OnigPattern("(x(?i)ab)c");
        Assert.Equal(["xABc"], Pieces(p, "xABc xABC"));
    }
}
