using System.Text.Json;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Presets;
using Fse.Runtime.Tests.Checkpoints;
using Fse.Tests;

namespace Fse.Runtime.Tests.Presets;

public class TokenizerImportTests
{
    /// <summary>A minimal BPE tokenizer.json with <paramref name="vocab"/> byte-level tokens and one added token after them.</summary>
    private static string WriteTokenizer(string directory, int vocab, bool withConfig)
    {
        Directory.CreateDirectory(directory);
        var tokens = Enumerable.Range(0, vocab).ToDictionary(i => $"t{i}", i => i);
        var json = JsonSerializer.Serialize(new
        {
            version = "1.0",
            added_tokens = new[] { new { id = vocab, content = "<|endoftext|>", special = true } },
            model = new { type = "BPE", vocab = tokens, merges = Array.Empty<string>() },
        });
        var path = Path.Combine(directory, TokenizerImport.TokenizerFileName);
        File.WriteAllText(path, json);
        if (withConfig) File.WriteAllText(Path.Combine(directory, TokenizerImport.TokenizerConfigFileName), "{\"eos_token\": \"<|endoftext|>\"}");
        return path;
    }

    [Fact]
    public void AFittingTokenizerIsCopiedWithItsConfig()
    {
        using var dir = new TempDirectory();
        var source = WriteTokenizer(dir.File("src"), vocab: 1000, withConfig: true);
        Assert.Equal((1000, "<|endoftext|>"), TokenizerImport.MaxTokenId(source));
        var files = TokenizerImport.CopyInto(dir.File("src"), dir.File("model"), vocabSize: 2048);
        Assert.Equal(2, files.Count);
        Assert.Equal(File.ReadAllBytes(source), File.ReadAllBytes(dir.File("model/tokenizer.json")));
        Assert.True(File.Exists(dir.File("model/tokenizer_config.json")));
    }

    [Fact]
    public void ATokenizerFileWithoutConfigCopiesAlone()
    {
        using var dir = new TempDirectory();
        var source = WriteTokenizer(dir.File("src"), vocab: 2047, withConfig: false);
        var files = TokenizerImport.CopyInto(source, dir.File("model"), vocabSize: 2048); // ids 0..2047 fit exactly
        Assert.Single(files);
    }

    [Fact]
    public void ATokenizerLargerThanTheVocabularyIsRefused()
    {
        using var dir = new TempDirectory();
        var source = WriteTokenizer(dir.File("src"), vocab: 2048, withConfig: false); // the added token gets id 2048
        var e = Assert.Throws<CheckpointException>(() => TokenizerImport.CopyInto(source, dir.File("model"), vocabSize: 2048));
        Assert.Equal(CheckpointErrorKind.TokenOutOfRange, e.Kind);
        Assert.Contains("2048", e.Message);
        Assert.Contains("<|endoftext|>", e.Message);
        Assert.False(File.Exists(dir.File("model/tokenizer.json")));
    }

    [Fact]
    public void TheQwen3TokenizerDoesNotFitATinyModel()
    {
        var qwen = SharedData.PathOf("qwen3-tokenizer");
        var (maxId, _) = TokenizerImport.MaxTokenId(Path.Combine(qwen, "tokenizer.json"));
        Assert.InRange(maxId, 151_000, 151_935); // fits qwen's 151936
        using var dir = new TempDirectory();
        var e = Assert.Throws<CheckpointException>(() => TokenizerImport.CopyInto(qwen, dir.Path, ModelPresets.Get(ModelPresets.TinyQwen3Next).Config().VocabSize));
        Assert.Equal(CheckpointErrorKind.TokenOutOfRange, e.Kind);
        Assert.All(TokenizerImport.CopyInto(qwen, dir.Path, 151936), f => Assert.True(File.Exists(f)));
    }

    [Fact]
    public void MissingSourcesAreReported()
    {
        using var dir = new TempDirectory();
        Assert.Equal(CheckpointErrorKind.FileNotFound, Assert.Throws<CheckpointException>(() => TokenizerImport.CopyInto(dir.File("nope.json"), dir.Path, 10)).Kind);
        Assert.Equal(CheckpointErrorKind.FileNotFound, Assert.Throws<CheckpointException>(() => TokenizerImport.CopyInto(dir.Sub("empty"), dir.Path, 10)).Kind);
        File.WriteAllText(dir.File("bad.json"), "{\"model\": {}}");
        Assert.Equal(CheckpointErrorKind.MissingKey, Assert.Throws<CheckpointException>(() => TokenizerImport.CopyInto(dir.File("bad.json"), dir.Path, 10)).Kind);
    }
}
