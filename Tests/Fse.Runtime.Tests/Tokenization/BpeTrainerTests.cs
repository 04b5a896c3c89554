using System.Diagnostics;
using System.Text;
using Fse.Runtime.Tokenization;
using Fse.Runtime.Tokenization.Unicode;

namespace Fse.Runtime.Tests.Tokenization;

public class BpeTrainerTests
{
    private static string RandomText(Random rng, int length)
    {
        // ASCII, Latin-1, CJK, astral (emoji, math letters, CJK extension B), controls, whitespace and bytes the corpus never had.
        int[][] ranges = [[0x20, 0x7E], [0x00, 0x1F], [0xA0, 0x2FF], [0x400, 0x4FF], [0x4E00, 0x9FFF], [0xAC00, 0xD7A3], [0x1F300, 0x1FAFF], [0x1D400, 0x1D7FF], [0x20000, 0x2A6DF], [0xE000, 0xF8FF]];
        var sb = new StringBuilder();
        for (var i = 0; i < length; i++)
        {
            var r = ranges[rng.Next(ranges.Length)];
            sb.Append(char.ConvertFromUtf32(rng.Next(r[0], r[1] + 1)));
        }
        return sb.ToString();
    }

    [Theory]
    [InlineData(259)]
    [InlineData(1000)]
    [InlineData(4096)]
    public void ReachesTheExactVocabularySizeAndRoundTripsAnyText(int vocabSize)
    {
        using var dir = new TokenizerFixtures.TempDirectory();
        BpeTrainer.WriteBuiltIn(dir.Path, vocabSize);
        var tok = Tokenizer.Load(dir.Path);
        Assert.Equal(vocabSize, tok.VocabSize);
        Assert.Equal(vocabSize - 3, tok.TokenToId("<|endoftext|>"));
        Assert.Equal(vocabSize - 1, tok.EosTokenId);                      // <|im_end|>
        Assert.Equal(vocabSize - 3, tok.PadTokenId);
        Assert.Equal([vocabSize - 3, vocabSize - 2, vocabSize - 1], tok.SpecialIds);
        var rng = new Random(vocabSize);
        for (var i = 0; i < 300; i++)
        {
            var text = RandomText(rng, rng.Next(0, 40));
            var ids = tok.Encode(text);
            Assert.All(ids, id => Assert.InRange(id, 0, vocabSize - 1));
            Assert.Equal(UnicodeNormalizer.Normalize(text, NormalizationKind.Nfc), tok.Decode(ids));
        }
        var chat = tok.ApplyChatTemplate([("user", "What is 2 + 3?")], addGenerationPrompt: true);
        Assert.Equal("<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n", chat);
        Assert.Equal([vocabSize - 2], tok.Encode(chat)[..1]);
    }

    [Fact]
    public void LearnsMergesFromTheCorpusBeforeSyntheticOnes()
    {
        var trained = new BpeTrainer(2000).Train([BpeTrainer.BuiltInCorpus]);
        Assert.InRange(trained.CorpusMerges, 300, 1741);
        Assert.Equal(2000 - 3 - 256, trained.Merges.Count);
        Assert.Contains("Ġthe", trained.Vocab.Take(256 + trained.CorpusMerges));
        Assert.Contains("Ġapples", trained.Vocab.Take(256 + trained.CorpusMerges));
        Assert.Equal(trained.Vocab.Count, trained.Vocab.Distinct().Count());
        // A corpus word comes out as one token once its merges are learned.
        using var dir = new TokenizerFixtures.TempDirectory();
        trained.Write(dir.Path);
        var tok = Tokenizer.Load(dir.Path);
        Assert.Single(tok.Encode(" apples"));
        Assert.True(tok.Encode("How many apples does Tom have now?").Length <= 9);
    }

    [Fact]
    public void IsDeterministicAndMatchesTheCommittedBuiltIn4096()
    {
        using var a = new TokenizerFixtures.TempDirectory();
        using var b = new TokenizerFixtures.TempDirectory();
        BpeTrainer.WriteBuiltIn(a.Path, 4096);
        BpeTrainer.WriteBuiltIn(b.Path, 4096);
        foreach (var file in new[] { "tokenizer.json", "tokenizer_config.json" })
        {
            var bytes = File.ReadAllBytes(Path.Combine(a.Path, file));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(b.Path, file)));
            // The committed copy (checked against HF by the fixtures) is what this code writes, on any machine.
            Assert.Equal(Encoding.UTF8.GetString(File.ReadAllBytes(TokenizerFixtures.PathOf(Path.Combine("builtin-4096", file)))), Encoding.UTF8.GetString(bytes));
        }
    }

    /// <remarks>The time bound (under 1 s here) only catches a pathological slow-down; a loaded CI machine must not trip it.</remarks>
    [Fact]
    public void ReachesQwenSizedVocabulariesInSeconds()
    {
        using var dir = new TokenizerFixtures.TempDirectory();
        var sw = Stopwatch.StartNew();
        BpeTrainer.WriteBuiltIn(dir.Path, 151936);
        var tok = Tokenizer.Load(dir.Path);
        sw.Stop();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"took {sw.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(151936, tok.VocabSize);
        Assert.Equal(151935, tok.EosTokenId);
        // Every id is a token that decodes to bytes and is distinct from every other.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var id = 0; id < tok.VocabSize; id++)
        {
            Assert.True(seen.Add(tok.IdToToken(id)), $"token {id} repeats");
            var bytes = ByteLevelAlphabet.DecodeToken(tok.IdToToken(id));
            Assert.NotEmpty(bytes);
        }
        var text = "Natalia sold 48 clips in April 🎉, 𝑥 = 24.";
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [Fact]
    public void RefusesVocabulariesSmallerThanTheBytesAndSpecialTokens()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BpeTrainer(258));
    }
}
