using Fse.Runtime.Tokenization.Unicode;

namespace Fse.Runtime.Tests.Tokenization;

/// <summary>Normalization as HF tokenizers does it (its tables are Unicode 12.0); expectations checked with HF tokenizers 0.23.2.</summary>
public class UnicodeNormalizerTests
{
    [Theory]
    [InlineData("e\u0301", "\u00E9", NormalizationKind.Nfc)]
    [InlineData("\u00E9", "e\u0301", NormalizationKind.Nfd)]
    [InlineData("\u212B", "\u00C5", NormalizationKind.Nfc)]                 // singleton: ANGSTROM SIGN
    [InlineData("\u2126", "\u03A9", NormalizationKind.Nfc)]                 // OHM SIGN
    [InlineData("\u0958", "\u0915\u093C", NormalizationKind.Nfc)]           // composition exclusion
    [InlineData("\u0344", "\u0308\u0301", NormalizationKind.Nfc)]           // non-starter decomposition
    [InlineData("a\u0302\u0323", "\u1EAD", NormalizationKind.Nfc)]          // reordered (dot below first), then composed
    [InlineData("q\u0307\u0323", "q\u0323\u0307", NormalizationKind.Nfc)]   // reordered, nothing to compose
    [InlineData("\u1100\u1161\u11A8", "\uAC01", NormalizationKind.Nfc)]     // Hangul L V T
    [InlineData("\uAC01", "\u1100\u1161\u11A8", NormalizationKind.Nfd)]
    [InlineData("\uFB01", "\uFB01", NormalizationKind.Nfc)]                 // compatibility only
    [InlineData("\uFB01\u2460\u00BD", "fi11\u20442", NormalizationKind.Nfkc)]
    [InlineData("\uFF21\u00A0", "A ", NormalizationKind.Nfkd)]
    [InlineData("\U0001D15E", "\U0001D157\U0001D165", NormalizationKind.Nfc)] // astral, excluded from composition
    [InlineData("\U00011935\U00011930", "\U00011935\U00011930", NormalizationKind.Nfc)] // Unicode 13 composite: unknown to HF
    [InlineData("\u32FF", "\u32FF", NormalizationKind.Nfkc)]                // Unicode 12.1: unknown to HF
    [InlineData("\u0301abc", "\u0301abc", NormalizationKind.Nfc)]           // leading non-starter stays
    [InlineData("plain ASCII\n", "plain ASCII\n", NormalizationKind.Nfkc)]
    public void NormalizesAsHuggingFace(string input, string expected, NormalizationKind kind)
    {
        Assert.Equal(expected, UnicodeNormalizer.Normalize(input, kind));
    }

    [Fact]
    public void NfcIsIdempotentAndInvertsNfdOnRandomText()
    {
        var rng = new Random(1234);
        int[] pool = [0x41, 0x61, 0xC5, 0xE9, 0x300, 0x301, 0x308, 0x323, 0x327, 0x345, 0x1100, 0x1161, 0x11A8, 0xAC00, 0x3099, 0x304B, 0x1E63, 0x0F73, 0x0FB2, 0x0F80, 0x1F600];
        for (var i = 0; i < 3000; i++)
        {
            var s = string.Concat(Enumerable.Range(0, rng.Next(1, 10)).Select(_ => char.ConvertFromUtf32(pool[rng.Next(pool.Length)])));
            var nfc = UnicodeNormalizer.Normalize(s, NormalizationKind.Nfc);
            var nfd = UnicodeNormalizer.Normalize(s, NormalizationKind.Nfd);
            Assert.Equal(nfc, UnicodeNormalizer.Normalize(nfc, NormalizationKind.Nfc));
            Assert.Equal(nfc, UnicodeNormalizer.Normalize(nfd, NormalizationKind.Nfc));
            Assert.Equal(nfd, UnicodeNormalizer.Normalize(nfc, NormalizationKind.Nfd));
        }
    }

    [Fact]
    public void CombiningClassesComeFromTheTable()
    {
        Assert.Equal(230, UnicodeNormalizer.CombiningClass(0x301));
        Assert.Equal(220, UnicodeNormalizer.CombiningClass(0x323));
        Assert.Equal(0, UnicodeNormalizer.CombiningClass('a'));
    }
}
