using System.Text.Json.Nodes;
using Fse.Runtime.Checkpoints;
using Fse.Runtime.Tokenization;

namespace Fse.Runtime.Tests.Tokenization;

/// <summary>Missing, malformed and unsupported tokenizer files fail with a CheckpointException naming the file and key.</summary>
public class TokenizerLoadErrorTests
{
    private static JsonObject SmallTokenizer() =>
        JsonNode.Parse(File.ReadAllText(TokenizerFixtures.PathOf("synthetic-b/tokenizer.json")))!.AsObject();

    private static CheckpointException LoadFails(string json, out string file)
    {
        using var dir = new TokenizerFixtures.TempDirectory();
        file = dir.Write("tokenizer.json", json);
        var path = file;
        return Assert.Throws<CheckpointException>(() => Tokenizer.Load(path));
    }

    [Fact]
    public void MissingDirectoryAndFile()
    {
        var missing = Path.Combine(Path.GetTempPath(), "fse-no-such-dir-" + Guid.NewGuid().ToString("N"));
        var e = Assert.Throws<CheckpointException>(() => Tokenizer.Load(missing));
        Assert.Equal(CheckpointErrorKind.DirectoryNotFound, e.Kind);
        Assert.Contains(missing, e.Message);
        e = Assert.Throws<CheckpointException>(() => Tokenizer.Load(Path.Combine(missing, "tokenizer.json")));
        Assert.Equal(CheckpointErrorKind.FileNotFound, e.Kind);
        using var empty = new TokenizerFixtures.TempDirectory();
        e = Assert.Throws<CheckpointException>(() => Tokenizer.Load(empty.Path));
        Assert.Equal(CheckpointErrorKind.FileNotFound, e.Kind);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void MalformedJsonNamesTheFile()
    {
        var e = LoadFails("{\"model\": {\"type\": \"BPE\",", out var file);
        Assert.Equal(CheckpointErrorKind.MalformedJson, e.Kind);
        Assert.Contains(file, e.Message);
        Assert.Equal(file, e.Path);
    }

    [Fact]
    public void UnsupportedModelTypeNamesTheKey()
    {
        var t = SmallTokenizer();
        t["model"]!["type"] = "WordPiece";
        var e = LoadFails(t.ToJsonString(), out var file);
        Assert.Equal(CheckpointErrorKind.UnknownModelType, e.Kind);
        Assert.Equal("model.type", e.Key);
        Assert.Contains("'WordPiece', which is not supported", e.Message);
        Assert.Contains(file, e.Message);
    }

    [Theory]
    [InlineData("normalizer", "{\"type\": \"Lowercase\"}", "normalizer.type")]
    [InlineData("decoder", "{\"type\": \"Metaspace\"}", "decoder.type")]
    [InlineData("post_processor", "{\"type\": \"RobertaProcessing\"}", "post_processor.type")]
    [InlineData("pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Whitespace\"}]}", "pre_tokenizer.pretokenizers[0].type")]
    [InlineData("pre_tokenizer", "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"^\\\\s\"}, \"behavior\": \"Isolated\", \"invert\": false}", "pre_tokenizer.pattern.Regex")]
    [InlineData("pre_tokenizer", "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"a\"}, \"behavior\": \"Sideways\", \"invert\": false}", "pre_tokenizer.behavior")]
    public void UnsupportedComponentsNameTheKey(string component, string json, string key)
    {
        var t = SmallTokenizer();
        t[component] = JsonNode.Parse(json);
        var e = LoadFails(t.ToJsonString(), out _);
        Assert.Equal(key, e.Key);
        Assert.Contains(key, e.Message);
        Assert.Contains("not", e.Message);
    }

    [Fact]
    public void MergesMustNameVocabularyTokens()
    {
        var t = SmallTokenizer();
        t["model"]!["merges"]!.AsArray().Add(new JsonArray("no-such-token", "a"));
        var e = LoadFails(t.ToJsonString(), out _);
        Assert.Equal(CheckpointErrorKind.InvalidValue, e.Kind);
        Assert.Contains("no-such-token", e.Message);
    }

    [Fact]
    public void MissingModelAndVocabularyAreMissingKeys()
    {
        var t = SmallTokenizer();
        t.Remove("model");
        Assert.Equal("model", LoadFails(t.ToJsonString(), out _).Key);
        t = SmallTokenizer();
        t["model"]!.AsObject().Remove("vocab");
        var e = LoadFails(t.ToJsonString(), out _);
        Assert.Equal(CheckpointErrorKind.MissingKey, e.Kind);
        Assert.Equal("model.vocab", e.Key);
    }

    [Fact]
    public void DropoutIsRefused()
    {
        var t = SmallTokenizer();
        t["model"]!["dropout"] = 0.1;
        Assert.Equal("model.dropout", LoadFails(t.ToJsonString(), out _).Key);
    }

    [Fact]
    public void AddedTokenIdsMustBeTheOnesHuggingFaceAssigns()
    {
        var t = SmallTokenizer();
        t["added_tokens"]![0]!["id"] = 5;
        var e = LoadFails(t.ToJsonString(), out _);
        Assert.Equal("added_tokens[0].id", e.Key);
        Assert.Contains("997", e.Message);
    }

    [Fact]
    public void MalformedTokenizerConfigIsReported()
    {
        using var dir = new TokenizerFixtures.TempDirectory();
        File.Copy(TokenizerFixtures.PathOf("synthetic-b/tokenizer.json"), Path.Combine(dir.Path, "tokenizer.json"));
        var config = dir.Write("tokenizer_config.json", "{\"eos_token\": 5}");
        var e = Assert.Throws<CheckpointException>(() => Tokenizer.Load(dir.Path));
        Assert.Equal("eos_token", e.Key);
        Assert.Contains(config, e.Message);
        dir.Write("tokenizer_config.json", "{\"eos_token\": {\"content\": \"<|im_end|>\", \"__type\": \"AddedToken\"}, \"chat_template\": [{\"name\": \"default\", \"template\": \"<|im_start|>{{ message['role'] }}\"}]}");
        var tok = Tokenizer.Load(dir.Path);
        Assert.Equal(999, tok.EosTokenId);
        Assert.StartsWith("<|im_start|>", tok.ChatTemplate);
    }
}
